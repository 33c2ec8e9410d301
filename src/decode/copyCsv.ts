// The COPY input that decoders of non-CSV formats (JSON Lines, Parquet) generate: one fixed CSV
// dialect (copyCsvWriter.ts writes it), and the map from the line numbers COPY names in its errors
// back to the source's lines (a quoted value may hold line breaks, and COPY counts those).
import type { FormatSpec } from '../jobs/spec.js';

/**
 * The dialect of generated COPY input: `,` between fields, `"` quotes (doubled inside), NULL is the
 * unquoted empty field and every non-null value is quoted (so `""` is the empty string), UTF8,
 * records end with `\n`.
 */
export const generatedCsvFormat: FormatSpec = Object.freeze({
  header: false,
  delimiter: ',',
  quote: '"',
  escape: '"',
  null: '',
  encoding: 'UTF8',
});

const SKIPPED = -1;

/**
 * At most this many entries are kept (24 MB); past them, later lines map as if nothing more were
 * skipped or tall (as the CSV framer's blank lines, csv/blankLines.ts). A file of gigabytes of line
 * ends once grew the map by 24 bytes a line.
 */
const MAX_ENTRIES = 1_000_000;

/**
 * Maps the line COPY names in an error back to the source line of the record it stands in.
 *
 * COPY counts physical lines: a line break inside a quoted value raises its counter, and an error
 * names the last line of a record that spans several. Which break counts depends on the line end
 * COPY has seen (copyfromparse.c): until the first record's end it counts CRs, after it LFs. So in
 * the first record of every COPY only CRs count, in the others only LFs. (Checked against
 * PostgreSQL 15: `1,"a\nb"` then `2,"c\nd"` then a bad third record is reported on line 4, not 5.)
 *
 * Kept: the source lines that gave no record (blank, invalid), a run of them as one entry, and the
 * records holding line breaks with how many of each; three float64 per entry, so a file of many such
 * records stays compact.
 */
export class CopyLineMap {
  private data = new Float64Array(3 * 64);
  private length = 0;

  /** Source line `line` gave no record. Lines must come in ascending order. */
  skip(line: number): void {
    // A run of skipped lines is one entry (its first line, SKIPPED, its length); the line after it grows it.
    const last = (this.length - 1) * 3;
    const d = this.data;
    if (this.length > 0 && d[last + 1] === SKIPPED && d[last]! + d[last + 2]! === line) d[last + 2] = d[last + 2]! + 1;
    else this.add(line, SKIPPED, 1);
  }

  /** The record from source line `line` holds `lf` LFs and `cr` CRs in its values (any > 0). */
  tall(line: number, lf: number, cr: number): void {
    this.add(line, lf, cr);
  }

  private add(line: number, lf: number, cr: number): void {
    if (this.length === MAX_ENTRIES) return;
    const i = this.length * 3;
    if (i + 3 > this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[i] = line;
    this.data[i + 1] = lf;
    this.data[i + 2] = cr;
    this.length++;
  }

  /** The source line of the record on COPY line `copyLine` of a COPY whose first record is from `startLine` (or after). */
  originalLineFrom(startLine: number, copyLine: number): number {
    const d = this.data;
    // The first entry whose last line is at or after startLine (a run of skipped lines may hold it).
    const lastLine = (i: number): number => d[i * 3]! + (d[i * 3 + 1] === SKIPPED ? d[i * 3 + 2]! - 1 : 0);
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (lastLine(mid) < startLine) lo = mid + 1;
      else hi = mid;
    }
    let line = startLine;
    let before = Math.max(0, copyLine - 1); // COPY lines before the one named
    let first = true;
    for (let i = lo; i < this.length; i++) {
      const at = d[i * 3]!;
      const plain = Math.max(0, at - line); // records of one COPY line each, up to the entry
      if (before < plain) return line + before;
      if (plain > 0) first = false;
      before -= plain;
      const lf = d[i * 3 + 1]!;
      line = at + (lf === SKIPPED ? d[i * 3 + 2]! : 1);
      if (lf === SKIPPED) continue;
      const extra = first ? d[i * 3 + 2]! : lf;
      first = false;
      if (before <= extra) return at;
      before -= extra + 1;
    }
    return line + before;
  }
}

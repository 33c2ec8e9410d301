// Frames a CSV byte stream into records the way COPY will read them, and repairs what COPY would get
// wrong, without parsing fields: a UTF-8 byte-order mark is dropped, blank lines are dropped and
// counted, the header record is taken out (and kept), and a record holding only `\.` (which ends a CSV
// COPY early in PostgreSQL, silently) is sent quoted so it loads as the two characters it is.
//
// Record ends follow COPY's CSV rules (copyfromparse.c): the quote character toggles "inside quotes",
// an escape character that differs from the quote only matters inside quotes, and CR, LF or CRLF
// outside quotes end a record. The line ends are found by a LineEndScanner (SIMD for the usual dialect)
// that looks at every byte once; the framer itself only does work per line end. Only complete records
// are given out: the incomplete end of a chunk is kept (copied) until the chunk that completes it, and
// a record larger than the record limit (recordLimit.ts) fails the load with the line it starts on.
import { defaultFormat, type FormatSpec } from '../../jobs/spec.js';
import type { RecordDecoder, SourcePosition } from '../decoder.js';
import { CutRule, RecordPositions, type Cut } from '../positions.js';
import { HeldRecord } from '../heldRecord.js';
import { checkRecordSize, defaultLimit, type RecordLimit } from '../recordLimit.js';
import { BlankLines } from './blankLines.js';
import { ByteOrderMark } from './byteOrderMark.js';
import type { FramerOptions, FramerStats } from './framerOptions.js';
import { lineEndScanner, type LineEndScanner } from './lineEnds.js';

export type { FramerOptions, FramerStats } from './framerOptions.js';

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

/** The scanner is given at most this many bytes at once, so its working memory stays small. */
const SLICE = 1 << 20;

const EMPTY = Buffer.alloc(0);
const CR_BYTE = Buffer.from([CR]);

/** The CSV decoder: records pass through as they are, framed, repaired where COPY would misread them. */
export class CsvFramer implements RecordDecoder {
  readonly acceptsGzip = true;
  readonly copyFormat: FormatSpec;
  private readonly quote: number;
  private readonly quotedMarker: Buffer;
  private readonly opts: FramerOptions;
  private readonly scanner: LineEndScanner;
  private readonly limit: RecordLimit;
  private readonly bom: ByteOrderMark;
  private headerDone: boolean;
  private lines = 0;
  /** Original byte offset of the next chunk's first byte. */
  private inOffset = 0;
  private outPos = 0;
  // The record being read. It starts at `recStart` of the chunk being framed, or in an earlier chunk,
  // when `tail` holds its bytes from there (copies, never given out until the record is complete).
  private readonly tail: HeldRecord;
  /** 1 when the tail ends with the CR that ended its record at the end of the last chunk (is an LF next?). */
  private tailCr = 0;
  /** The last chunk ended with a CR inside quotes: an LF first in this one is the same line end. */
  private quotedCrAtEnd = false;
  private recStart = 0;
  private recLine = 1;
  private recOffset = 0;
  /** Where in the chunk being framed the bytes not yet given out (or dropped) start. */
  private emitFrom = 0;
  private readonly stats_: FramerStats;
  /** Where the dropped blank lines were. */
  private readonly blanks = new BlankLines();
  /** With trackRecords: every data record given out and not yet taken by the consumer. */
  readonly records = new RecordPositions();
  /** Cuts marked so far (with cutEvery); the consumer takes them. */
  cuts: Cut[] = [];
  private readonly cutRule: CutRule;
  headerBytes: Buffer | undefined;

  constructor(opts: FramerOptions & { simd?: boolean }) {
    this.opts = opts;
    this.limit = opts.limit ?? defaultLimit();
    this.tail = new HeldRecord(this.limit);
    this.copyFormat = opts.copyFormat ?? defaultFormat;
    this.bom = new ByteOrderMark(opts.dropBom);
    this.quote = Buffer.from(opts.quote, 'latin1')[0]!;
    const escape = Buffer.from(opts.escape, 'latin1')[0]!;
    this.scanner = lineEndScanner(this.quote, escape, { simd: opts.simd });
    this.quotedMarker = Buffer.from([this.quote, BACKSLASH, DOT, this.quote]);
    this.headerDone = !opts.header;
    this.cutRule = new CutRule(opts.cutEvery);
    this.stats_ = { bytesIn: 0, bytesOut: 0, records: 0, lines: 0, blankLines: 0, endMarkersQuoted: 0, headerLines: 0, endedInQuote: false };
  }

  get stats(): FramerStats {
    return { ...this.stats_, bytesOut: this.outPos, lines: this.lines, endedInQuote: this.scanner.inQuote };
  }

  /** Takes a chunk; pushes the output for every record it completes onto `out`. */
  push(chunk: Buffer, out: Buffer[]): void {
    this.stats_.bytesIn += chunk.length;
    this.frameAfterMark(chunk, out);
  }

  /** Ends the input: emits the last record even without a line end. */
  end(out: Buffer[]): void {
    this.frameAfterMark(EMPTY, out, true);
    this.emitFrom = 0;
    this.recStart = 0;
    if (this.tailCr === 1) {
      this.complete(EMPTY, 0, 0, out);
    } else if (this.tail.length > 0) {
      // The last record, with no line end (or ending inside quotes: COPY will say it is unterminated).
      this.lines++;
      this.complete(EMPTY, 0, 0, out, true);
    }
  }

  /** Frames the chunk's bytes once a byte-order mark, if any, is behind (its bytes still count in offsets). */
  private frameAfterMark(chunk: Buffer, out: Buffer[], ended = false): void {
    const data = this.bom.next(chunk, ended);
    if (!data) return;
    if (this.inOffset === 0) this.inOffset = this.recOffset = this.bom.dropped;
    this.frame(data, out);
  }

  private frame(data: Buffer, out: Buffer[]): void {
    const n = data.length;
    if (n === 0) return;
    this.emitFrom = 0;
    this.recStart = 0;
    // Line-end bytes below this position were dealt with as the second half of a CRLF.
    let skipBelow = 0;
    if (this.tailCr === 1) {
      // The last chunk's final CR ended a record; an LF here belongs to that line end.
      const termEnd = data[0] === LF ? 1 : 0;
      skipBelow = termEnd;
      this.complete(data, 0, termEnd, out);
    } else if (this.quotedCrAtEnd) {
      this.quotedCrAtEnd = false;
      if (data[0] === LF) skipBelow = 1;
    }
    const scanner = this.scanner;
    // Records neither tracked nor cut (a single COPY): runs of usual ones are completed in place below.
    const plain = !this.opts.trackRecords && this.opts.cutEvery === undefined;
    const max = this.limit.maxBytes;
    let pendingCr = false;
    slices: for (let from = 0; from < n; from += SLICE) {
      const to = Math.min(n, from + SLICE);
      const count = scanner.scan(data, from, to);
      const events = scanner.events;
      for (let k = 0; k < count; k++) {
        if (plain && this.tail.length === 0 && this.headerDone) {
          // The usual records, in place: each ends at an LF outside quotes and is longer than `\.`, the
          // header is behind, and nothing of them was carried from the last chunk. What complete() does
          // for them, less a call and its branches per record: the framer's own work (besides the scan)
          // went from about 38 to 10 ms per 1,000,000 rows (bench:framer).
          let start = this.recStart;
          let records = 0;
          for (; k < count; k++) {
            const event = events[k]!;
            const i = event >>> 1;
            // (One over the limit goes to complete(), which refuses it.)
            if (event !== i << 1 || data[i] !== LF || i - start <= 2 || i < skipBelow || i - start >= max) break;
            start = i + 1;
            skipBelow = start;
            records++;
          }
          if (records > 0) {
            // One line each.
            this.lines += records;
            this.stats_.records += records;
            this.recStart = start;
            this.recLine = this.lines + 1;
            this.recOffset = this.inOffset + start;
          }
          if (k === count) break;
        }
        const event = events[k]!;
        const i = event >>> 1;
        if (i < skipBelow) continue;
        let termEnd = i + 1;
        const crAtEnd = data[i] === CR && termEnd === n;
        if (data[i] === CR && termEnd < n && data[termEnd] === LF) termEnd++;
        // A line end: CRLF counts once.
        this.lines++;
        skipBelow = termEnd;
        if ((event & 1) === 1) {
          if (crAtEnd) this.quotedCrAtEnd = true;
          continue;
        }
        if (crAtEnd) {
          // An LF may start the next chunk: the record is completed then, with its CR kept in the tail.
          pendingCr = true;
          break slices;
        }
        this.complete(data, i, termEnd, out);
      }
    }
    this.emit(data, this.emitFrom, this.recStart, out);
    if (this.recStart < n) {
      // Kept as a copy, so the caller may reuse its chunk; past the limit this throws RECORD_TOO_LARGE.
      this.tail.keep(data.subarray(this.recStart), this.recLine, this.recOffset);
      this.tailCr = pendingCr ? 1 : 0;
    }
    this.inOffset += n;
  }

  /**
   * A record ends: its bytes are the tail's (less a CR the tail may end with) and data[recStart, i),
   * and its line end is the tail's CR, if any, and data[i, termEnd). `unterminated`: the input's last
   * record, with no line end.
   */
  private complete(data: Buffer, i: number, termEnd: number, out: Buffer[], unterminated = false): void {
    const tailCr = this.tailCr;
    const len = this.tail.length - tailCr + (i - this.recStart);
    const line = this.recLine;
    const offset = this.recOffset;
    checkRecordSize(this.limit, this.tail.length + (termEnd - this.recStart), line, offset);
    if (!this.headerDone) {
      this.headerDone = true;
      this.headerBytes = this.tail.joined(data.subarray(this.recStart, i)).subarray(0, len);
      this.stats_.headerLines = this.lines - (line - 1);
      this.drop(data, termEnd, out);
    } else if (len === 0) {
      this.stats_.blankLines++;
      this.blanks.dropped(line);
      this.drop(data, termEnd, out);
    } else if (len === 2 && this.byteAt(data, 0) === BACKSLASH && this.byteAt(data, 1) === DOT && !(unterminated && this.scanner.inQuote)) {
      // `\.` alone: sent quoted. (An unterminated last record inside quotes is not one COPY ends on.)
      this.emit(data, this.emitFrom, this.recStart, out);
      out.push(this.quotedMarker);
      this.outPos += this.quotedMarker.length;
      if (tailCr === 1) {
        out.push(CR_BYTE);
        this.outPos += 1;
      }
      this.emitFrom = i;
      this.stats_.endMarkersQuoted++;
      this.counted(termEnd, line, offset);
    } else {
      for (const piece of this.tail.pieces) out.push(piece);
      this.outPos += this.tail.length;
      this.counted(termEnd, line, offset);
    }
    // The record is out (or dropped): its carried bytes are done with.
    if (this.tail.length > 0) {
      this.tail.clear();
      this.tailCr = 0;
    }
    if (!unterminated && this.cutRule.due(this.inOffset + termEnd)) {
      this.cuts.push({ out: this.outPos + (termEnd - this.emitFrom), offset: this.inOffset + termEnd, line: this.lines + 1, records: this.stats_.records });
    }
    this.recStart = termEnd;
    this.recLine = this.lines + 1;
    this.recOffset = this.inOffset + termEnd;
  }

  /** A data record given out: counted, and its place kept when records are tracked. */
  private counted(termEnd: number, line: number, offset: number): void {
    this.stats_.records++;
    if (this.opts.trackRecords) this.records.push(this.outPos + (termEnd - this.emitFrom), line, offset);
  }

  /** The record and its line end are not given out (header, blank line). */
  private drop(data: Buffer, termEnd: number, out: Buffer[]): void {
    this.emit(data, this.emitFrom, this.recStart, out);
    this.emitFrom = termEnd;
  }

  /** Byte `k` of the record being completed, whether in the tail or in `data`. */
  private byteAt(data: Buffer, k: number): number | undefined {
    for (const piece of this.tail.pieces) {
      if (k < piece.length) return piece[k];
      k -= piece.length;
    }
    return data[this.recStart + k];
  }

  private emit(data: Buffer, from: number, to: number, out: Buffer[]): number {
    if (to > from) {
      out.push(data.subarray(from, to));
      this.outPos += to - from;
    }
    return to;
  }

  /**
   * Maps a line number COPY reports for the framer's output (from 1) back to the original file's line,
   * adding the header's lines and the blank lines dropped before it.
   */
  originalLine(copyLine: number): number {
    return this.originalLineFrom(1 + this.stats_.headerLines, copyLine);
  }

  /** A record's place in the file is the line and byte offset the framer stored for it. */
  describe(line: number, offset: number | null): SourcePosition {
    return { line, byteOffset: offset };
  }

  /** The same for a COPY of the output from the record on original line `startLine` (a chunk). */
  originalLineFrom(startLine: number, copyLine: number): number {
    return this.blanks.originalLineFrom(startLine, copyLine);
  }
}

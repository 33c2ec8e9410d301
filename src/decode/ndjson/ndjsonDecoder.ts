// JSON Lines (.jsonl, .ndjson, .json with one object a line) as COPY input: each line's object
// becomes one record of the target's columns, in the generated CSV dialect (decode/copyCsv.ts).
//
// Contract with the loader:
// - A line that is not valid UTF-8, not valid JSON, or not a JSON object is not a record: it goes
//   into `invalid` ({line, byteOffset, message, record}) and is counted in stats.invalidLines. The
//   decoder cannot reject it in the database itself: the loader drains `invalid` (splice(0)) after
//   every push() and end(), reports each as a reject and charges it to the job's error budget.
// - Blank lines (empty or only spaces and tabs) are dropped and counted (stats.blankLines).
// - For every line seen, exactly one of: a record, an invalid line, a blank line:
//   stats.records + stats.invalidLines + stats.blankLines === stats.lines.
// - `records` (with trackRecords) holds (output end, line, byte offset of the line); COPY's line
//   numbers map back through originalLine()/originalLineFrom(), across dropped lines and values
//   holding line breaks. Cuts follow CsvFramer's rule, after a line (terminated by LF).
// - A line longer than the record limit (its LF included) fails the load: RECORD_TOO_LARGE, naming it.
//
// Fields map to columns by name (or by `rename`); unknown fields are ignored, missing ones are NULL.
// Strings go as they are; numbers as their JSON text (a line with a number that a double may not
// hold exactly, 16 digits or more or a 3-digit exponent, is parsed again keeping the numbers' source
// text); booleans as true/false; objects and arrays as their JSON text (for json, jsonb or text).
import { isUtf8 } from 'node:buffer';
import { CutRule, RecordPositions, type Cut } from '../positions.js';
import { CopyLineMap, generatedCsvFormat } from '../copyCsv.js';
import { CopyCsvWriter } from '../copyCsvWriter.js';
import type { DecoderOptions, DecoderStats, RecordDecoder, SourcePosition } from '../decoder.js';
import { HeldRecord } from '../heldRecord.js';
import { checkRecordSize, defaultLimit, type RecordLimit } from '../recordLimit.js';

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const EMPTY = Buffer.alloc(0);
/** Most characters of an invalid line's text kept for its report. */
const MAX_INVALID_TEXT = 2000;
/** A number a double may not hold exactly: 16 digits or more, or an exponent of 3 digits. */
const WIDE_NUMBER = /\d{16}|\d[eE][+-]?\d{3}/;

// JSON.rawJSON and the reviver's source text (Node 21+), not yet in TypeScript's lib.
const json = JSON as unknown as {
  parse(text: string, reviver?: (key: string, value: unknown, context: { source?: string }) => unknown): unknown;
  rawJSON(text: string): unknown;
};
const keepNumberText = (_key: string, value: unknown, context: { source?: string }): unknown =>
  typeof value === 'number' && context.source !== undefined ? json.rawJSON(context.source) : value;

export interface NdjsonDecoderOptions extends DecoderOptions {
  /** The target's columns in COPY order: every record has exactly these fields, in this order. */
  columns: string[];
  /** Source field name to target column, for fields named otherwise in the file. Default: none. */
  rename?: Record<string, string>;
}

/** A line that gave no record: reported by the loader as a reject. */
export interface InvalidLine {
  /** Line in the file, from 1. */
  line: number;
  /** Byte offset of the line in the (decompressed) file. */
  byteOffset: number;
  /** Why: "not valid JSON: ...", "not a JSON object", "not valid UTF-8". */
  message: string;
  /** The line's text, cut to 2000 characters. */
  record: string;
}

export interface NdjsonStats extends DecoderStats {
  /** Lines seen (a final line without LF included). */
  lines: number;
  /** Lines put into `invalid`. */
  invalidLines: number;
}

export class NdjsonDecoder implements RecordDecoder {
  readonly copyFormat = generatedCsvFormat;
  readonly acceptsGzip = true;
  readonly headerBytes = undefined;
  readonly records = new RecordPositions();
  cuts: Cut[] = [];
  /** Lines that gave no record, not yet taken by the loader. */
  readonly invalid: InvalidLine[] = [];

  private readonly opts: NdjsonDecoderOptions;
  private readonly limit: RecordLimit;
  private readonly width: number;
  /** Field name to column index (-1: not a column), learnt as names are met. */
  private readonly indexOf = new Map<string, number>();
  private readonly values: unknown[];
  private readonly lineMap = new CopyLineMap();
  private bytesIn = 0;
  private recordCount = 0;
  private blankLines = 0;
  private invalidLines = 0;
  private lines = 0;
  /** File offset of the next byte pushed. */
  private inOffset = 0;
  /** Output offset where the pending output (`out`) starts. */
  private outBase = 0;
  private readonly cutRule: CutRule;
  /** The start of an unfinished line: copies of its pieces, its line and file offset. */
  private readonly tail: HeldRecord;
  /** The records of the push being decoded. */
  private out: CopyCsvWriter | undefined;
  /** Output bytes per input byte so far, to size the next push's output. */
  private ratio = 1.1;

  constructor(opts: NdjsonDecoderOptions) {
    this.opts = opts;
    this.limit = opts.limit ?? defaultLimit();
    this.tail = new HeldRecord(this.limit);
    this.width = opts.columns.length;
    this.values = new Array<unknown>(this.width);
    this.cutRule = new CutRule(opts.cutEvery);
  }

  get stats(): NdjsonStats {
    return {
      bytesIn: this.bytesIn,
      records: this.recordCount,
      blankLines: this.blankLines,
      endedInQuote: false,
      lines: this.lines,
      invalidLines: this.invalidLines,
    };
  }

  push(chunk: Buffer, out: Buffer[]): void {
    this.bytesIn += chunk.length;
    const chunkOffset = this.inOffset;
    this.inOffset += chunk.length;
    let from = 0;
    let nl = chunk.indexOf(LF);
    if (nl < 0) {
      if (chunk.length > 0) this.tail.keep(chunk, this.lines + 1, chunkOffset);
      return;
    }
    if (this.tail.length > 0) {
      // The line begun in earlier chunks ends here: only it is joined.
      const line = this.tail.joined(chunk.subarray(0, nl));
      this.tail.clear();
      this.line(line, 0, line.length, this.tail.offset, true, !isUtf8(line));
      from = nl + 1;
      nl = chunk.indexOf(LF, from);
    }
    if (nl >= 0) {
      // Lines are whole here, and a LF is never inside a UTF-8 sequence: one check for all of them.
      const last = chunk.lastIndexOf(LF);
      const checkEach = !isUtf8(chunk.subarray(from, last));
      for (; nl >= 0; nl = chunk.indexOf(LF, from)) {
        this.line(chunk, from, nl, chunkOffset + from, true, checkEach);
        from = nl + 1;
      }
    }
    if (from < chunk.length) this.tail.keep(chunk.subarray(from), this.lines + 1, chunkOffset + from);
    this.flush(out);
  }

  end(out: Buffer[]): void {
    if (this.tail.length > 0) {
      const line = this.tail.joined(EMPTY);
      this.tail.clear();
      this.line(line, 0, line.length, this.tail.offset, false, !isUtf8(line));
    }
    this.flush(out);
  }

  private flush(out: Buffer[]): void {
    if (!this.out) return;
    const bytes = this.out.take();
    this.out = undefined;
    this.outBase += bytes.length;
    this.ratio = Math.max(this.ratio, this.bytesIn > 0 ? this.outBase / this.bytesIn : 0);
    if (bytes.length > 0) out.push(bytes);
  }

  /**
   * One line, data[start, end) without its LF, at file offset `offset`. `terminated`: a LF ended it.
   * `checkUtf8`: its bytes may not be valid UTF-8.
   */
  private line(data: Buffer, start: number, end: number, offset: number, terminated: boolean, checkUtf8: boolean): void {
    const line = ++this.lines;
    checkRecordSize(this.limit, end - start + (terminated ? 1 : 0), line, offset);
    if (line === 1 && data[start] === 0xef && data[start + 1] === 0xbb && data[start + 2] === 0xbf) {
      start += 3;
      offset += 3;
    }
    const lineEnd = offset + (end - start) + (terminated ? 1 : 0);
    if (end > start && data[end - 1] === CR) end--;
    if (isBlank(data, start, end)) {
      this.blankLines++;
      this.lineMap.skip(line);
    } else if (checkUtf8 && !isUtf8(data.subarray(start, end))) {
      this.reject(line, offset, 'not valid UTF-8', data.toString('utf8', start, end));
    } else {
      const text = data.toString('utf8', start, end);
      this.out ??= new CopyCsvWriter(Math.ceil((data.length - start) * this.ratio));
      const recordEnd = this.record(this.out, text, line, offset);
      if (recordEnd !== undefined) {
        this.recordCount++;
        if (this.opts.trackRecords) this.records.push(this.outBase + recordEnd, line, offset);
      }
    }
    if (terminated && this.cutRule.due(lineEnd)) {
      this.cuts.push({ out: this.outBase + (this.out?.length ?? 0), offset: lineEnd, line: line + 1, records: this.recordCount });
    }
  }

  /** Writes one line's record to `out`; returns its end there, or undefined when the line is invalid (then reported). */
  private record(out: CopyCsvWriter, text: string, line: number, offset: number): number | undefined {
    let parsed: unknown;
    try {
      parsed = WIDE_NUMBER.test(text) ? json.parse(text, keepNumberText) : JSON.parse(text);
    } catch (err) {
      this.reject(line, offset, `not valid JSON: ${(err as Error).message}`, text);
      return undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      this.reject(line, offset, `not a JSON object (${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed})`, text);
      return undefined;
    }
    const values = this.values;
    values.fill(undefined);
    const object = parsed as Record<string, unknown>;
    for (const key in object) {
      const i = this.columnOf(key);
      if (i >= 0) values[i] = object[key];
    }
    for (let i = 0; i < this.width; i++) out.field(fieldText(values[i]));
    if (out.lf + out.cr > 0) this.lineMap.tall(line, out.lf, out.cr);
    return out.endRecord();
  }

  private columnOf(key: string): number {
    let i = this.indexOf.get(key);
    if (i === undefined) {
      const rename = this.opts.rename;
      const column = rename && Object.hasOwn(rename, key) ? rename[key]! : key;
      i = this.opts.columns.indexOf(column);
      this.indexOf.set(key, i);
    }
    return i;
  }

  private reject(line: number, byteOffset: number, message: string, text: string): void {
    this.invalidLines++;
    this.lineMap.skip(line);
    const record = text.length > MAX_INVALID_TEXT ? `${text.slice(0, MAX_INVALID_TEXT)}…` : text;
    this.invalid.push({ line, byteOffset, message, record });
  }

  originalLine(copyLine: number): number {
    return this.lineMap.originalLineFrom(1, copyLine);
  }

  originalLineFrom(startLine: number, copyLine: number): number {
    return this.lineMap.originalLineFrom(startLine, copyLine);
  }

  describe(line: number, offset: number | null): SourcePosition {
    return { line, byteOffset: offset };
  }
}

function isBlank(data: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = data[i];
    if (b !== SPACE && b !== TAB) return false;
  }
  return true;
}

/** One value's COPY text (null for NULL). */
function fieldText(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      // Objects and arrays as JSON text; a number kept as its source text (JSON.rawJSON) too.
      return value === null ? null : JSON.stringify(value);
    default:
      return null;
  }
}

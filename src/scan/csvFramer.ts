// Frames a CSV byte stream into records the way COPY will read them, and repairs what COPY would get
// wrong, without parsing fields: a UTF-8 byte-order mark is dropped, blank lines are dropped and
// counted, the header record is taken out (and kept), and a record holding only `\.` (which ends a CSV
// COPY early in PostgreSQL, silently) is sent quoted so it loads as the two characters it is.
//
// Record ends follow COPY's CSV rules (copyfromparse.c): the quote character toggles "inside quotes",
// an escape character that differs from the quote only matters inside quotes, and CR, LF or CRLF
// outside quotes end a record. Only complete records are emitted; the incomplete tail of a chunk is
// carried to the next one, so every record lies whole in one buffer when it is looked at.

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

/** Where a data record sits, in the framer's output and in the original file. */
export interface RecordMeta {
  /** Output offset just past this record (and its line end). */
  end: number;
  /** Line in the original file (from 1) on which the record starts. */
  line: number;
  /** Byte offset in the original (decompressed) file at which the record starts. */
  offset: number;
}

export interface FramerOptions {
  quote: string;
  escape: string;
  /** Take the first record out as the header. */
  header: boolean;
  /** Drop a UTF-8 byte-order mark at the start (for UTF8 input). */
  dropBom: boolean;
  /** Keep a RecordMeta per data record (batch loading needs them; the fast path does not). */
  trackRecords: boolean;
  /**
   * Chunked loading: mark a cut after the first record that ends at or past every multiple of this
   * many bytes of the original file. The cuts depend on the content only, so a retry cuts the same way.
   */
  cutEvery?: number;
}

/** A point between two records where a chunk ends. */
export interface Cut {
  /** Output offset of the cut. */
  out: number;
  /** Original byte offset of the cut (where the next record starts). */
  offset: number;
  /** Original line on which the next record starts. */
  line: number;
  /** Data records given out before the cut. */
  records: number;
}

export interface FramerStats {
  /** Bytes taken in. */
  bytesIn: number;
  /** Bytes given out. */
  bytesOut: number;
  /** Data records given out (header and blank lines excluded). */
  records: number;
  /** Physical lines seen. */
  lines: number;
  /** Blank lines dropped. */
  blankLines: number;
  /** `\.` records sent quoted. */
  endMarkersQuoted: number;
  /** Lines the header record took (0 without a header). */
  headerLines: number;
  /** True when the input ended inside a quoted field. */
  endedInQuote: boolean;
}

/** At most this many blank-line positions are kept for mapping COPY's line numbers back. */
const MAX_BLANK_POSITIONS = 1_000_000;

export class CsvFramer {
  private readonly quote: number;
  private readonly escape: number;
  private readonly quotedMarker: Buffer;
  private readonly opts: FramerOptions;
  private carry: Buffer[] = [];
  private carryLength = 0;
  private inQuote = false;
  private lastWasEscape = false;
  private started = false;
  private headerDone: boolean;
  private lines = 0;
  /** Original byte offset of the first byte of the carried or next data. */
  private inOffset = 0;
  private outPos = 0;
  private stats_: FramerStats;
  /** Original line numbers of dropped blank lines, ascending. */
  readonly blankLinesAt: number[] = [];
  records: RecordMeta[] = [];
  /** Cuts marked so far (with cutEvery); the consumer takes them. */
  cuts: Cut[] = [];
  private nextCut: number;
  headerBytes: Buffer | undefined;

  constructor(opts: FramerOptions) {
    this.opts = opts;
    this.quote = Buffer.from(opts.quote, 'latin1')[0]!;
    this.escape = Buffer.from(opts.escape, 'latin1')[0]!;
    this.quotedMarker = Buffer.from([this.quote, BACKSLASH, DOT, this.quote]);
    this.headerDone = !opts.header;
    this.nextCut = opts.cutEvery ?? Number.POSITIVE_INFINITY;
    this.stats_ = { bytesIn: 0, bytesOut: 0, records: 0, lines: 0, blankLines: 0, endMarkersQuoted: 0, headerLines: 0, endedInQuote: false };
  }

  get stats(): FramerStats {
    return { ...this.stats_, bytesOut: this.outPos, lines: this.lines, endedInQuote: this.inQuote };
  }

  /** Takes a chunk; pushes the output for every record it completes onto `out`. */
  push(chunk: Buffer, out: Buffer[]): void {
    this.stats_.bytesIn += chunk.length;
    let data = chunk;
    if (this.carryLength > 0) {
      this.carry.push(chunk);
      data = Buffer.concat(this.carry, this.carryLength + chunk.length);
      this.carry = [];
      this.carryLength = 0;
    }
    if (!this.started) {
      if (data.length < 3 && this.opts.dropBom) {
        this.keep(data);
        return;
      }
      this.started = true;
      if (this.opts.dropBom && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) {
        data = data.subarray(3);
        this.inOffset += 3;
      }
    }
    const consumed = this.scan(data, out, false);
    if (consumed < data.length) this.keep(data.subarray(consumed));
  }

  /** Ends the input: emits the last record even without a line end. */
  end(out: Buffer[]): void {
    let data = this.carryLength > 0 ? Buffer.concat(this.carry, this.carryLength) : Buffer.alloc(0);
    this.carry = [];
    this.carryLength = 0;
    if (!this.started) {
      this.started = true;
      if (this.opts.dropBom && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) {
        data = data.subarray(3);
        this.inOffset += 3;
      }
    }
    if (data.length > 0) this.scan(data, out, true);
  }

  private keep(rest: Buffer): void {
    // A copy, so the caller may reuse its chunk.
    const copy = Buffer.from(rest);
    this.carry.push(copy);
    this.carryLength += copy.length;
  }

  /**
   * Scans `data`, which starts at a record boundary, emitting each complete record. Returns how many
   * bytes were consumed (the start of the incomplete last record). With `final`, the tail is a record.
   */
  private scan(data: Buffer, out: Buffer[], final: boolean): number {
    const quote = this.quote;
    const escape = this.escape;
    const sameEscape = quote === escape;
    const track = this.opts.trackRecords;
    let inQuote = this.inQuote;
    let lastWasEscape = this.lastWasEscape;
    let lines = this.lines;
    let recStart = 0;
    let emitFrom = 0;
    const n = data.length;
    let i = 0;
    // Quote state at the start of the record being scanned, restored if it is carried over.
    let quoteAtRecStart = inQuote;
    let escAtRecStart = lastWasEscape;
    let linesAtRecStart = lines;
    // Hot state in locals, written back after the loop.
    const inOffset = this.inOffset;
    let nextCut = this.nextCut;
    let records = this.stats_.records;
    // Word-at-a-time view for the quote-is-escape case: between line ends only the parity of the quotes
    // matters, and a 32-bit word's quotes can be counted without looking at its bytes one by one.
    const head = (4 - (data.byteOffset & 3)) & 3;
    const words = sameEscape && n - head >= 8 ? new Uint32Array(data.buffer, data.byteOffset + head, (n - head) >> 2) : undefined;
    const wordCount = words ? words.length : 0;
    const quoteWord = Math.imul(quote, 0x01010101);
    outer: while (i < n) {
      let c: number;
      if (sameEscape) {
        if (words !== undefined && i >= head && ((i - head) & 3) === 0) {
          let j = (i - head) >> 2;
          while (j < wordCount) {
            const w = words[j]!;
            const xl = w ^ 0x0a0a0a0a;
            const xc = w ^ 0x0d0d0d0d;
            // A byte of x is zero exactly where its 0x80 bit is set in this mask.
            if ((~(((xl & 0x7f7f7f7f) + 0x7f7f7f7f) | xl | 0x7f7f7f7f) | ~(((xc & 0x7f7f7f7f) + 0x7f7f7f7f) | xc | 0x7f7f7f7f)) !== 0) break;
            const xq = w ^ quoteWord;
            let p = ~(((xq & 0x7f7f7f7f) + 0x7f7f7f7f) | xq | 0x7f7f7f7f) >>> 7;
            p ^= p >>> 16;
            p ^= p >>> 8;
            if ((p & 1) !== 0) inQuote = !inQuote;
            j++;
          }
          i = head + (j << 2);
          if (i >= n) break;
        }
        // Byte by byte up to the next word boundary, or to a line end.
        c = data[i]!;
        for (;;) {
          if (c === LF || c === CR) break;
          if (c === quote) inQuote = !inQuote;
          if (++i === n) break outer;
          if (words !== undefined && i >= head && ((i - head) & 3) === 0 && ((i - head) >> 2) < wordCount) continue outer;
          c = data[i]!;
        }
      } else if ((c = data[i]!) !== LF && c !== CR) {
        if (inQuote && c === escape) lastWasEscape = !lastWasEscape;
        if (c === quote && !lastWasEscape) inQuote = !inQuote;
        if (c !== escape) lastWasEscape = false;
        i++;
        continue;
      }
      lastWasEscape = false;
      // A line end: CRLF counts once. A CR at the very end may be the first half of a CRLF.
      let termEnd = i + 1;
      if (c === CR) {
        if (i + 1 < n) {
          if (data[i + 1] === LF) termEnd = i + 2;
        } else if (!final) {
          break; // decide when the next chunk comes
        }
      }
      lines++;
      if (inQuote) {
        i = termEnd;
        continue;
      }
      // A complete record: [recStart, i) plus its line end [i, termEnd).
      const len = i - recStart;
      const line = linesAtRecStart + 1;
      const offset = inOffset + recStart;
      if (!this.headerDone) {
        this.headerDone = true;
        this.headerBytes = Buffer.from(data.subarray(recStart, i));
        this.stats_.headerLines = lines - linesAtRecStart;
        emitFrom = this.emit(data, emitFrom, recStart, out);
        emitFrom = termEnd;
      } else if (len === 0) {
        this.stats_.blankLines++;
        if (this.blankLinesAt.length < MAX_BLANK_POSITIONS) this.blankLinesAt.push(line);
        emitFrom = this.emit(data, emitFrom, recStart, out);
        emitFrom = termEnd;
      } else {
        if (len === 2 && data[recStart] === BACKSLASH && data[recStart + 1] === DOT) {
          emitFrom = this.emit(data, emitFrom, recStart, out);
          out.push(this.quotedMarker);
          this.outPos += this.quotedMarker.length;
          emitFrom = i;
          this.stats_.endMarkersQuoted++;
        }
        records++;
        if (track) this.records.push({ end: this.outPos + (termEnd - emitFrom), line, offset });
      }
      if (inOffset + termEnd >= nextCut) {
        this.cuts.push({ out: this.outPos + (termEnd - emitFrom), offset: inOffset + termEnd, line: lines + 1, records });
        const every = this.opts.cutEvery!;
        nextCut = (Math.floor((inOffset + termEnd) / every) + 1) * every;
      }
      i = termEnd;
      recStart = termEnd;
      quoteAtRecStart = inQuote;
      escAtRecStart = lastWasEscape;
      linesAtRecStart = lines;
    }
    this.nextCut = nextCut;
    this.stats_.records = records;
    if (final && recStart < n) {
      // The last record, with no line end (or ending inside quotes: COPY will say it is unterminated).
      const len = n - recStart;
      const line = linesAtRecStart + 1;
      const offset = this.inOffset + recStart;
      lines++;
      if (!this.headerDone) {
        this.headerDone = true;
        this.headerBytes = Buffer.from(data.subarray(recStart, n));
        this.stats_.headerLines = lines - linesAtRecStart;
        emitFrom = this.emit(data, emitFrom, recStart, out);
        emitFrom = n;
      } else if (len === 2 && data[recStart] === BACKSLASH && data[recStart + 1] === DOT && !inQuote) {
        emitFrom = this.emit(data, emitFrom, recStart, out);
        out.push(this.quotedMarker);
        this.outPos += this.quotedMarker.length;
        emitFrom = n;
        this.stats_.endMarkersQuoted++;
        this.stats_.records++;
        if (track) this.records.push({ end: this.outPos, line, offset });
      } else {
        this.stats_.records++;
        if (track) this.records.push({ end: this.outPos + (n - emitFrom), line, offset });
      }
      recStart = n;
      quoteAtRecStart = inQuote;
      escAtRecStart = lastWasEscape;
      linesAtRecStart = lines;
    }
    this.emit(data, emitFrom, recStart, out);
    // The incomplete record is scanned again with the next chunk: rewind its state.
    this.inQuote = final ? inQuote : quoteAtRecStart;
    this.lastWasEscape = final ? lastWasEscape : escAtRecStart;
    this.lines = final ? lines : linesAtRecStart;
    this.inOffset += recStart;
    return recStart;
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

  /** The same for a COPY of the output from the record on original line `startLine` (a chunk). */
  originalLineFrom(startLine: number, copyLine: number): number {
    let line = startLine + copyLine - 1;
    for (const blank of this.blankLinesAt) {
      if (blank < startLine) continue;
      if (blank <= line) line++;
      else break;
    }
    return line;
  }
}

// The decoder seam: how a source object's bytes become COPY input. Every format (CSV, JSON Lines,
// Parquet) is one RecordDecoder; the load path (sink/copyLoader.ts, load/loadChunked.ts) sees only
// this interface. A decoder takes the object's bytes in order, gives out complete records as the bytes
// of a COPY ... FORMAT csv input in the dialect `copyFormat` names, and remembers where each record came
// from (for line numbers, rejects, chunk cuts and record-count reconciliation).
import type { FormatSpec } from '../jobs/spec.js';
import type { Reject } from '../sink/reject.js';
import type { Cut, RecordPositions } from './positions.js';
import type { RecordLimit } from './recordLimit.js';
import type { ByteRange } from '../sources/source.js';

export type { Cut } from './positions.js';
export { RecordPositions } from './positions.js';

export interface DecoderStats {
  /** Bytes taken in. */
  bytesIn: number;
  /** Data records given out (a header and blank lines excluded). */
  records: number;
  /** Lines seen (formats without lines: records); the stored "line" of whatever follows is lines + 1. */
  lines: number;
  /** Blank lines dropped (line formats), 0 otherwise. */
  blankLines: number;
  /** CSV: the input ended inside a quoted field (its last record is truncated). */
  endedInQuote: boolean;
}

/**
 * Where a rejected record was in the source. Line formats give its line (from 1) and byte offset;
 * Parquet gives its row group, its row in it and its row in the file (all from 0).
 */
export interface SourcePosition {
  line: number | null;
  byteOffset: number | null;
  rowGroup?: number;
  row?: number;
  absoluteRow?: number;
}

/** Reads a byte range of the object being decoded (what a decoder's prepare() may use). */
export type RangeReader = (range: ByteRange) => Promise<Buffer>;

export interface RecordDecoder {
  /** The dialect of the COPY input given out (the job's own for CSV; a fixed one for generated input). */
  readonly copyFormat: FormatSpec;
  /** True when the object's bytes may be gunzipped before they come here (.gz, Content-Encoding gzip). */
  readonly acceptsGzip: boolean;
  /**
   * Called once before any bytes, for formats that must read part of the object first (Parquet's
   * footer). Returns the range to stream into push(), or undefined for the whole object.
   */
  prepare?(read: RangeReader, size: number): Promise<ByteRange | undefined>;
  /** Takes bytes in order; pushes the COPY input of every record they complete onto `out`. */
  push(chunk: Buffer, out: Buffer[]): void;
  /** The input has ended: gives out the last record(s). */
  end(out: Buffer[]): void;
  /**
   * Output held back to be given out lazily (Parquet gives a row group out a slice at a time, so its
   * text is never all in memory): after every push() and end(), the consumer takes pieces until it
   * returns undefined (laterOutput does).
   */
  more?(): Buffer | undefined;
  readonly stats: DecoderStats;
  /** With trackRecords: every record given out and not yet taken by the consumer (ends in output offsets). */
  readonly records: RecordPositions;
  /** With cutEvery: chunk cuts marked so far; the consumer takes them. */
  cuts: Cut[];
  /** CSV with header: the header record's bytes, once read. */
  readonly headerBytes: Buffer | undefined;
  /**
   * Maps the line COPY names in an error (a line of the output, from 1) to the record's "line" as
   * `records` and `cuts` store it (for CSV the original line; for Parquet the file's row + 1).
   */
  originalLine(copyLine: number): number;
  /** The same for a COPY of the output from the record stored with line `startLine` (a chunk: Cut.line). */
  originalLineFrom(startLine: number, copyLine: number): number;
  /** A record's position in the source, from the line and offset `records` stored for it. */
  describe(line: number, offset: number | null): SourcePosition;
  /**
   * Formats that name their fields: the target columns the records fill, in order (after prepare()).
   * Without it the loader's own column list applies (CSV: target.columns or the header).
   */
  copyColumns?(): string[];
  /**
   * Records the decoder itself refused (a JSON Lines line that is not a JSON object), never sent to
   * COPY. The consumer takes them after every push() and end() (takeRefused) and reports them as rejects.
   */
  readonly invalid?: RefusedRecord[];
}

/**
 * The decoder's held-back output, one piece at a time, each timed into `spent.ms` (the decoding work
 * it took). Empty for decoders that give everything out from push() and end().
 */
export function* laterOutput(decoder: RecordDecoder, spent: { ms: number }): Generator<Buffer> {
  if (!decoder.more) return;
  for (;;) {
    const t0 = performance.now();
    const piece = decoder.more();
    spent.ms += performance.now() - t0;
    if (!piece) return;
    yield piece;
  }
}

/** A record the decoder refused, with its place in the source. */
export interface RefusedRecord {
  line: number;
  byteOffset: number;
  message: string;
  record: string;
}

/** The records the decoder refused since the last call, as rejects (SQLSTATE 22032, invalid JSON text). */
export function takeRefused(decoder: RecordDecoder): Reject[] {
  const refused = decoder.invalid;
  if (!refused || refused.length === 0) return [];
  return refused.splice(0).map((r) => ({ line: r.line, byteOffset: r.byteOffset, column: null, sqlstate: '22032', message: r.message, record: r.record }));
}

export interface DecoderOptions {
  /** Keep every record's position in `records` (batch loading needs them; the fast path does not). */
  trackRecords: boolean;
  /** Chunked loading: cut after the first record ending at or past every multiple of this many input bytes. */
  cutEvery?: number;
  /**
   * The most bytes one record (line end included) or one Parquet page (uncompressed) may take, and the
   * object's name for the error. Default: the process's limit (RECORD_MAX_BYTES; recordLimit.ts).
   */
  limit?: RecordLimit;
}

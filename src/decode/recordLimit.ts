// How large one record may be: the bound on what a decoder holds for one record (a CSV or JSON Lines
// record, line end included; a Parquet page, uncompressed). Without it a file with no line end (a gzip
// of gigabytes of one byte) was held whole in memory until the worker died. A run passes RECORD_MAX_BYTES
// to every decoder it builds (load/shapes); decoders built without one (tests, benches) get the default,
// which lets a 100 MB record through.
import { IngestError } from '../errors.js';

/** RECORD_MAX_BYTES's default: 128 MiB. */
export const DEFAULT_RECORD_MAX_BYTES = 128 << 20;

/** What a decoder needs to refuse a record: the limit, and the object's name for the message. */
export interface RecordLimit {
  maxBytes: number;
  /** The object's key, named in the error. */
  name: string;
}

/** The default limit, for a decoder whose options name none. */
export function defaultLimit(): RecordLimit {
  return { maxBytes: DEFAULT_RECORD_MAX_BYTES, name: 'the file' };
}

/**
 * Throws RECORD_TOO_LARGE when a record that starts on `line` at byte `offset` has taken `bytes`
 * (or, unfinished, already more than the limit allows).
 */
export function checkRecordSize(limit: RecordLimit, bytes: number, line: number, offset: number): void {
  if (bytes <= limit.maxBytes) return;
  throw new IngestError(
    'RECORD_TOO_LARGE',
    `line ${line} of ${limit.name}: the record that starts there (byte ${offset}) is larger than RECORD_MAX_BYTES (${limit.maxBytes} bytes); ` +
      'nothing from this file was committed. A missing line end or an unclosed quote makes the rest of a file one record: ' +
      'fix the file, or raise RECORD_MAX_BYTES if records this large are real.',
    { file: limit.name, line, byteOffset: offset, limit: limit.maxBytes },
  );
}

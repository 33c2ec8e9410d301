// The records of a batch held in memory, as the sinks that isolate bad records see them: the bytes of a
// run of records, and the reject a refused record becomes (its original line and byte offset).
import type { RecordPositions } from '../decode/positions.js';
import { copyErrorPosition } from './copySql.js';
import { printable, type Reject } from './reject.js';

/** The bytes of records [a, b) of a batch whose first byte sits at output offset `base` of `data`. */
export function recordBytes(data: Buffer, base: number, recs: RecordPositions, a: number, b: number): Buffer {
  const start = a === 0 ? 0 : recs.end(a - 1) - base;
  return data.subarray(start, recs.end(b - 1) - base);
}

/** What the database said about a refused record: its SQLSTATE, message and, from COPY, the column. */
export interface Refusal {
  code: string;
  message: string;
  where?: string;
}

/** Record `r` of a batch as a reject, with the SQLSTATE and message of `err`. */
export function recordReject(data: Buffer, base: number, recs: RecordPositions, r: number, err: Refusal, textEncoding: BufferEncoding): Reject {
  const text = recordBytes(data, base, recs, r, r + 1).toString(textEncoding).replace(/\r?\n$|\r$/, '');
  return {
    line: recs.line(r),
    byteOffset: recs.offset(r),
    column: copyErrorPosition(err).column ?? null,
    sqlstate: err.code,
    message: err.message,
    record: printable(text),
  };
}

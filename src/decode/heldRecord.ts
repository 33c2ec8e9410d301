// The start of a record that a chunk did not finish, kept until a later chunk ends it: what CsvFramer
// and NdjsonDecoder carry from one chunk to the next. Its pieces are copies (the source may reuse its
// chunks), and it is where both bound what they hold: past the record limit it throws
// RECORD_TOO_LARGE, naming the line where the record starts, instead of growing.
import { checkRecordSize, type RecordLimit } from './recordLimit.js';

export class HeldRecord {
  /** Copies of the record's bytes so far, in order. */
  pieces: Buffer[] = [];
  /** Bytes held. */
  length = 0;
  /** Line (from 1) and byte offset of the file where the held record starts (still so after clear()). */
  line = 0;
  offset = 0;

  constructor(private readonly limit: RecordLimit) {}

  /**
   * Copies `piece` onto the held record; the first piece starts it on `line` at byte `offset`. Throws
   * RECORD_TOO_LARGE, keeping nothing more, when the record would outgrow the limit.
   */
  keep(piece: Buffer, line: number, offset: number): void {
    if (this.length === 0) {
      this.line = line;
      this.offset = offset;
    }
    checkRecordSize(this.limit, this.length + piece.length, this.line, this.offset);
    this.pieces.push(Buffer.from(piece));
    this.length += piece.length;
  }

  /** The held bytes in one Buffer, followed by `rest`. */
  joined(rest: Buffer): Buffer {
    return Buffer.concat([...this.pieces, rest]);
  }

  /** The record is done with (given out, dropped or refused). */
  clear(): void {
    this.pieces = [];
    this.length = 0;
  }
}

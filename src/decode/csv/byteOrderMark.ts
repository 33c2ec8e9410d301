// A UTF-8 byte-order mark at the start of a CSV file, dropped (COPY would read it into the first
// field). The first bytes are held until there are three, since a mark may be split between chunks.

export class ByteOrderMark {
  private head: Buffer | undefined;
  private started = false;
  /** Bytes dropped at the start of the file: 3 when it began with a mark, else 0. */
  dropped = 0;

  /** `drop`: look for a mark at all (UTF8 input). */
  constructor(private readonly drop: boolean) {}

  /**
   * The bytes of `chunk` to frame: past the start, the chunk itself; at the start, the first bytes
   * without a mark, or undefined while too few have come to tell. `ended`: no more bytes will come.
   */
  next(chunk: Buffer, ended = false): Buffer | undefined {
    if (this.started) return chunk;
    const data = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    if (this.drop && data.length < 3 && !ended) {
      this.head = Buffer.from(data);
      return undefined;
    }
    this.head = undefined;
    this.started = true;
    if (this.drop && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) {
      this.dropped = 3;
      return data.subarray(3);
    }
    return data;
  }
}

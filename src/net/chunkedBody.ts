// The chunked transfer coding of an HTTP/1.1 body (RFC 9112, 7.1) undone as bytes arrive, split at any
// byte. Pure: the data is handed out as views of the input, never copied.
import { HttpProtocolError } from './responseHead.js';

/** The longest chunk-size line (size and extensions) or trailer line accepted. */
const MAX_LINE = 4096;

type State = 'size' | 'data' | 'dataEnd' | 'trailer' | 'done';

export class ChunkedBody {
  private state: State = 'size';
  /** The part of a size or trailer line seen so far. */
  private line = '';
  /** Data bytes left in the current chunk. */
  private left = 0;
  /** Bytes of the CRLF after a chunk's data still expected. */
  private crlfLeft = 0;

  get done(): boolean {
    return this.state === 'done';
  }

  /**
   * Takes the next bytes of the body and hands each run of data to `out` (a view of `bytes`). Returns
   * the index in `bytes` just past the body's end (its last trailer line), or -1 when it has not ended.
   */
  feed(bytes: Buffer, out: (data: Buffer) => void): number {
    let i = 0;
    while (i < bytes.length) {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.left, bytes.length - i);
          out(bytes.subarray(i, i + n));
          i += n;
          this.left -= n;
          if (this.left === 0) {
            this.state = 'dataEnd';
            this.crlfLeft = 2;
          }
          break;
        }
        case 'dataEnd': {
          const expected = this.crlfLeft === 2 ? 0x0d : 0x0a;
          if (bytes[i] !== expected) throw new HttpProtocolError('a chunk of the body is not followed by CRLF');
          i++;
          if (--this.crlfLeft === 0) this.state = 'size';
          break;
        }
        case 'size':
        case 'trailer': {
          const lf = bytes.indexOf(0x0a, i);
          const end = lf < 0 ? bytes.length : lf;
          this.line += bytes.toString('latin1', i, end);
          if (this.line.length > MAX_LINE) throw new HttpProtocolError(`a chunk-size or trailer line is longer than ${MAX_LINE} bytes`);
          i = end;
          if (lf < 0) break;
          i++;
          const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
          this.line = '';
          if (this.state === 'trailer') {
            if (line === '') {
              this.state = 'done';
              return i;
            }
            break;
          }
          const size = line.split(';')[0]!.trim();
          if (!/^[0-9a-fA-F]{1,12}$/.test(size)) throw new HttpProtocolError(`bad chunk size: ${JSON.stringify(line.slice(0, 40))}`);
          this.left = parseInt(size, 16);
          this.state = this.left === 0 ? 'trailer' : 'data';
          break;
        }
        case 'done':
          return i;
      }
    }
    return this.state === 'done' ? i : -1;
  }
}

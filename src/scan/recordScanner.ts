// A byte scanner that counts CSV records on their way to COPY, without parsing fields into objects.
// It follows the rules PostgreSQL's COPY uses to find record ends in CSV mode (copyfromparse.c): the
// quote character toggles "inside quotes", the escape character (when it differs from the quote) only
// matters inside quotes, and CR, LF or CRLF outside quotes end a record. That keeps its record count
// equal to the rows COPY sees, which is what reconciliation (sent = loaded) checks.
import { Transform, type TransformCallback } from 'node:stream';

const LF = 0x0a;
const CR = 0x0d;

export interface ScanCounts {
  /** Bytes seen. */
  bytes: number;
  /** Records seen, counting a final record with no line end. */
  records: number;
  /** Physical lines seen (line ends anywhere, quoted or not), counting a final unterminated line. */
  lines: number;
}

export interface ScannerOptions {
  quote: string;
  escape: string;
  /** Called with the running counts at most once per chunk. */
  onProgress?: (counts: ScanCounts) => void;
}

export class RecordScanner extends Transform {
  private readonly quote: number;
  private readonly escape: number;
  private readonly onProgress: ((counts: ScanCounts) => void) | undefined;
  private inQuote = false;
  private lastWasEscape = false;
  private lastWasCR = false;
  private recordHasBytes = false;
  private bytes = 0;
  private completeRecords = 0;
  private completeLines = 0;
  private lineHasBytes = false;

  constructor(options: ScannerOptions) {
    super();
    this.quote = Buffer.from(options.quote, 'latin1')[0]!;
    this.escape = Buffer.from(options.escape, 'latin1')[0]!;
    this.onProgress = options.onProgress;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.scan(chunk);
    this.onProgress?.(this.counts());
    done(null, chunk);
  }

  private scan(buf: Buffer): void {
    const quote = this.quote;
    const escape = this.escape;
    const sameEscape = quote === escape;
    let inQuote = this.inQuote;
    let lastWasEscape = this.lastWasEscape;
    let lastWasCR = this.lastWasCR;
    let recordHasBytes = this.recordHasBytes;
    let lineHasBytes = this.lineHasBytes;
    let records = this.completeRecords;
    let lines = this.completeLines;
    const n = buf.length;
    for (let i = 0; i < n; i++) {
      const c = buf[i]!;
      if (c === LF || c === CR) {
        // A physical line ends here (CRLF counts once).
        if (!(c === LF && lastWasCR)) lines++;
        lineHasBytes = false;
        if (!inQuote) {
          if (!(c === LF && lastWasCR)) records++;
          recordHasBytes = false;
        } else {
          recordHasBytes = true;
        }
        lastWasCR = c === CR;
        lastWasEscape = false;
        continue;
      }
      lastWasCR = false;
      recordHasBytes = true;
      lineHasBytes = true;
      if (sameEscape) {
        if (c === quote) inQuote = !inQuote;
      } else {
        if (inQuote && c === escape) lastWasEscape = !lastWasEscape;
        if (c === quote && !lastWasEscape) inQuote = !inQuote;
        if (c !== escape) lastWasEscape = false;
      }
    }
    this.inQuote = inQuote;
    this.lastWasEscape = lastWasEscape;
    this.lastWasCR = lastWasCR;
    this.recordHasBytes = recordHasBytes;
    this.lineHasBytes = lineHasBytes;
    this.completeRecords = records;
    this.completeLines = lines;
    this.bytes += n;
  }

  counts(): ScanCounts {
    return {
      bytes: this.bytes,
      records: this.completeRecords + (this.recordHasBytes ? 1 : 0),
      lines: this.completeLines + (this.lineHasBytes ? 1 : 0),
    };
  }

  /** True when the input ended inside a quoted field: the last record is truncated. */
  get endedInQuote(): boolean {
    return this.inQuote;
  }
}

// atomicity "chunk": the decoder's output cut into chunks. The Chunker copies what the decoder puts out
// into reused buffers and hands out a Chunk at every cut the decoder marks (the first record end past
// every chunkBytes of the file), with the records' positions, so a chunk's rejects keep their lines.
import { Writable } from 'node:stream';
import { laterOutput, takeRefused, type RecordDecoder, type RecordPositions } from '../decode/decoder.js';
import type { Reject } from '../sink/reject.js';
import type { AsyncQueue } from './asyncQueue.js';

export interface Chunk {
  byteStart: number;
  byteEnd: number;
  firstLine: number;
  /** Output offset of data[0]. */
  base: number;
  data: Buffer;
  records: number;
  meta: RecordPositions;
  /** The pooled buffer `data` lies in: back to the pool once the chunk is loaded. */
  buffer: Buffer;
}

/**
 * The buffers chunks are built in, reused from chunk to chunk. A new buffer per chunk (8 MiB) lived as
 * long as its COPY, outlived young-generation collections, and the dead ones held the process's memory
 * up until a full collection: 234-244 MiB with 2 or 4 streams. At most streams + 2 exist at once.
 */
export class ChunkBuffers {
  private readonly free: Buffer[] = [];

  constructor(private readonly size: number) {}

  take(atLeast: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= atLeast);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    return Buffer.allocUnsafeSlow(Math.max(atLeast, this.size));
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
  }
}

const NO_BYTES = Buffer.alloc(0);

/** Copies the decoder's output into pooled buffers and hands out a Chunk at every cut. */
export class Chunker extends Writable {
  private current: Buffer;
  private pendingBytes = 0;
  private startOut = 0;
  private startOffset = 0;
  private startLine = 1;
  private startRecords = 0;

  constructor(
    private readonly framer: RecordDecoder,
    private readonly queue: AsyncQueue<Chunk>,
    private readonly buffers: ChunkBuffers,
    /** Takes the records the decoder refused (never sent to COPY); throws to stop the load. */
    private readonly onRefused: (refused: Reject[]) => Promise<void>,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.current = NO_BYTES;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const out: Buffer[] = [];
    this.framer.push(chunk, out);
    this.onRefused(takeRefused(this.framer)).then(() => this.take(out, false)).then(() => done(), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    const out: Buffer[] = [];
    this.framer.end(out);
    this.onRefused(takeRefused(this.framer)).then(() => this.take(out, true)).then(() => done(), done);
  }

  private async take(out: Buffer[], final: boolean): Promise<void> {
    for (const b of out) this.keep(b);
    await this.cutsSoFar();
    // Output the decoder holds back (Parquet's row groups, a slice at a time): cut as it comes.
    for (const piece of laterOutput(this.framer, { ms: 0 })) {
      this.keep(piece);
      await this.cutsSoFar();
    }
    if (final) {
      const s = this.framer.stats;
      await this.cutAt(this.startOut + this.pendingBytes, s.bytesIn, s.lines + 1, s.records);
    }
  }

  private async cutsSoFar(): Promise<void> {
    for (const cut of this.framer.cuts.splice(0)) await this.cutAt(cut.out, cut.offset, cut.line, cut.records);
  }

  /** Appends framer output to the chunk being built (moved to a larger buffer when it outgrows this one). */
  private keep(piece: Buffer): void {
    const end = this.pendingBytes + piece.length;
    if (end > this.current.length) {
      const larger = this.buffers.take(end);
      this.current.copy(larger, 0, 0, this.pendingBytes);
      if (this.current !== NO_BYTES) this.buffers.give(this.current);
      this.current = larger;
    }
    piece.copy(this.current, this.pendingBytes);
    this.pendingBytes = end;
  }

  private async cutAt(out: number, offset: number, line: number, records: number): Promise<void> {
    const size = out - this.startOut;
    const buffer = this.current;
    const data = buffer.subarray(0, size);
    // What follows the cut starts the next chunk, in a buffer of its own.
    const restBytes = this.pendingBytes - size;
    this.current = restBytes > 0 ? this.buffers.take(restBytes) : NO_BYTES;
    buffer.copy(this.current, 0, size, this.pendingBytes);
    this.pendingBytes = restBytes;
    const recs = this.framer.records;
    let k = 0;
    while (k < recs.length && recs.end(k) <= out) k++;
    const meta = recs.shift(k);
    const chunk: Chunk = { byteStart: this.startOffset, byteEnd: offset, firstLine: this.startLine, base: this.startOut, data, records: records - this.startRecords, meta, buffer };
    this.startOut = out;
    this.startOffset = offset;
    this.startLine = line;
    this.startRecords = records;
    if (chunk.records > 0) await this.queue.put(chunk);
    else if (buffer !== NO_BYTES) this.buffers.give(buffer);
  }
}

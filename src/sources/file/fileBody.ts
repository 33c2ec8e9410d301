// A file's bytes as a stream, read a slab at a time into the reused read buffers (net/slabs.ts).
//
// Why not the descriptor's createReadStream: it reads 64 KiB at a time, each read through libuv's
// thread pool into a fresh buffer, which cost a file:// load more CPU and page faults than reads into
// slabs (issue #19; docs/performance.md, "Page faults on fresh read buffers"). Here each read fills
// the rest of a 1 MiB slab: about 160 reads per 167 MB, into memory already mapped once the loader has
// given its earlier reads back.
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { lend, SlabReads } from '../../net/slabs.js';

export interface FileBodyOptions {
  /** The first byte to read. */
  start: number;
  /** Where to stop (exclusive); Infinity: the file's end. */
  end: number;
  /** Called once the last byte is read: an error fails the stream instead of ending it (a rewrite seen). */
  atEnd: () => Promise<Error | undefined>;
  /** Turns an error of a read into the one the stream fails with. */
  mapError: (err: unknown) => Error;
}

/** Reads `handle` from `start` to `end`, and closes it however the stream ends. */
export class FileBody extends Readable {
  private readonly reads = new SlabReads();
  private position: number;
  /** The read in flight: the slab is not given up (nor the handle closed) before it is done. */
  private reading: Promise<unknown> | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly o: FileBodyOptions,
  ) {
    super();
    this.position = o.start;
  }

  override _read(): void {
    const left = this.o.end - this.position;
    if (left <= 0) return void this.finish();
    const into = this.reads.next();
    const n = Math.min(into.length, left);
    this.reading = this.handle.read(into, 0, n, this.position).then(
      ({ bytesRead }) => {
        if (this.destroyed) return;
        if (bytesRead === 0) return void this.finish();
        this.position += bytesRead;
        const view = this.reads.filled(bytesRead);
        // The reader may give the view back once done with it (net/slabs.ts: giveBack).
        lend(view);
        this.push(view);
      },
      (err: unknown) => this.destroy(this.o.mapError(err)),
    );
  }

  private async finish(): Promise<void> {
    const err = await this.o.atEnd().catch((e: unknown) => this.o.mapError(e));
    if (this.destroyed) return;
    if (err) this.destroy(err);
    else this.push(null);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    void Promise.resolve(this.reading)
      .catch(() => {})
      .then(() => {
        this.reads.close();
        return this.handle.close().catch(() => {});
      })
      .then(() => callback(err));
  }
}

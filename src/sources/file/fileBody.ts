// A file's bytes as a stream, READ_BYTES at a time, from a handle the source has already checked.
//
// Why not the descriptor's createReadStream: it reads 64 KiB at a time, each read a trip through libuv's
// thread pool; here a read is 1 MiB, about 160 per 167 MB (issue #19). The stream also checks, at the
// end, that the file was not rewritten while it was read (atEnd).
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** Bytes per read. */
export const READ_BYTES = 1 << 20;

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
  private position: number;
  /** The read in flight: the handle is not closed before it is done. */
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
    const n = Math.min(READ_BYTES, left);
    const into = Buffer.allocUnsafe(n);
    this.reading = this.handle.read(into, 0, n, this.position).then(
      ({ bytesRead }) => {
        if (this.destroyed) return;
        if (bytesRead === 0) return void this.finish();
        this.position += bytesRead;
        this.push(bytesRead === n ? into : into.subarray(0, bytesRead));
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
      .then(() => this.handle.close().catch(() => {}))
      .then(() => callback(err));
  }
}

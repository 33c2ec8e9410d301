// How the single COPY's input is written: the decoder's pieces (two or three per read) copied into 1 MiB
// buffers, each full buffer written to pg-copy-streams' stream as one CopyData message, waiting for
// 'drain' when it asks to. A write per piece was about 5,000 messages per 167 MB and as many header
// buffers (issue #19); this is about 160. Pieces are copied at once: the decoder may hand out views of
// a read that the source reuses.
import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Bytes gathered per write into the COPY stream. */
export const GATHER_BYTES = 1 << 20;

export class GatheredWrites {
  private buffer = Buffer.allocUnsafe(GATHER_BYTES);
  private used = 0;
  private over = false;

  constructor(
    private readonly copy: Writable,
    /** The COPY's own end (its 'finish' or error): nothing more is written after it. */
    private readonly ended: Promise<unknown>,
  ) {
    const stop = (): void => {
      this.over = true;
    };
    ended.then(stop, stop);
  }

  /** Copies `pieces` in; a promise to wait for when the COPY stream asks the writer to wait. */
  add(pieces: readonly Buffer[]): Promise<void> | undefined {
    let wait: Promise<void> | undefined;
    for (const piece of pieces) {
      let from = 0;
      while (from < piece.length) {
        const n = piece.copy(this.buffer, this.used, from);
        this.used += n;
        from += n;
        if (this.used === GATHER_BYTES) wait = this.write() ?? wait;
      }
    }
    return wait;
  }

  /** Writes what is left. */
  async end(): Promise<void> {
    if (this.used > 0) await this.write();
  }

  private write(): Promise<void> | undefined {
    const full = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(GATHER_BYTES);
    this.used = 0;
    if (this.over || this.copy.write(full)) return undefined;
    const stop = this.ended.then(
      () => undefined,
      () => undefined,
    );
    return Promise.race([once(this.copy, 'drain').then(() => undefined), stop]);
  }
}

// The single-COPY sink: one COPY for the whole file, its bytes gathered into 1 MiB writes into
// pg-copy-streams (gatheredWrites.ts) with backpressure. Any bad record fails the file (maxErrors 0), reported as one reject
// at its line in the file. The fast path: no per-record work beyond the byte scan.
import copyStreams from 'pg-copy-streams';
import { CopySink } from './copySink.js';
import { GatheredWrites } from './gatheredWrites.js';
import { refusedRecordError, withCopyReject, type Reject } from './reject.js';

export class SingleCopy extends CopySink {
  private frames: GatheredWrites | undefined;
  private rows = 0;

  get rowsLoaded(): number {
    return this.rows;
  }

  get rejected(): number {
    return 0;
  }

  protected override fastTake(pieces: Buffer[]): Promise<void> | undefined | null {
    // A read's records are copied into the COPY's frames with no promise made unless the frames ask the
    // sink to wait; a decoder holding output back or refusing records takes the general path.
    if (this.o.decoder.more || this.o.decoder.invalid?.length) return null;
    return this.takeNow(pieces);
  }

  protected async take(pieces: Buffer[]): Promise<void> {
    await this.takeNow(pieces);
  }

  protected async refuseOne(reject: Reject): Promise<void> {
    throw refusedRecordError(reject);
  }

  private start(): GatheredWrites {
    if (!this.frames) {
      const copy = this.o.client.query(copyStreams.from(this.statement()));
      this.copy = copy;
      this.watchCopy(copy); // its outcome is observed in takeNow() and finish()
      this.frames = new GatheredWrites(copy, this.copyDone!);
    }
    return this.frames;
  }

  /**
   * Hands pieces to the frames. Undefined when the sink may go on at once, else a promise to wait for
   * (backpressure). The server may end the COPY with an error while bytes are still coming: nothing
   * more is written then, and the COPY's error is thrown.
   */
  private takeNow(pieces: Buffer[]): Promise<void> | undefined {
    if (pieces.length === 0) return undefined;
    const frames = this.start();
    if (this.copyFailed) return this.fail(undefined);
    const wait = frames.add(pieces);
    if (!wait) return undefined;
    return wait.then(
      () => (this.copyFailed ? this.fail(undefined) : undefined),
      (err: unknown) => this.fail(err),
    );
  }

  /** Whatever the writes ran into, the COPY's own outcome (the server's error) is the one to report. */
  private async fail(err: unknown): Promise<never> {
    const copy = this.copy!;
    if (err !== undefined && !copy.destroyed) copy.destroy(err as Error);
    throw this.failure(await this.copyDone!.then(() => err ?? new Error('the COPY ended before its input did'), (copyErr: unknown) => copyErr));
  }

  protected async finish(): Promise<void> {
    this.statement(); // checks the header's columns even when there is no data
    if (!this.frames) return;
    try {
      await this.frames.end();
    } catch (err) {
      await this.fail(err);
    }
    if (this.copyFailed) await this.fail(undefined);
    this.copy!.end();
    try {
      await this.copyDone;
    } catch (err) {
      throw this.failure(err);
    }
    this.rows = this.copy!.rowCount ?? 0;
  }

  /** The COPY failed: on a bad record, one reject with the line mapped back to the file. */
  private failure(err: unknown): unknown {
    return withCopyReject(err, (copyLine) => this.o.decoder.originalLine(copyLine));
  }
}

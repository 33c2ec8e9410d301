// What both COPY sinks share (singleCopy.ts: one COPY for the file; batchCopy.ts: batches under
// savepoints): a Writable that takes the source's bytes, has the decoder turn them into records, hands
// them to the sink's own `take`, reports the records the decoder refused, and keeps time of the byte
// scan and of the COPY. copyLoader.ts picks the sink for a job.
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../db/pool.js';
import { trackCopy } from '../metrics.js';
import { laterOutput, takeRefused, type RecordDecoder } from '../decode/decoder.js';
import type { BatchStage } from './batchCopier.js';
import type { RecordProbe } from './recordProbe.js';
import type { Reject } from './reject.js';

export interface CopyLoaderOptions {
  client: PoolClient;
  /** Turns the source's bytes into COPY input (decode/decoder.ts). */
  decoder: RecordDecoder;
  mode: 'single' | 'batch';
  /** Builds the COPY statement once the header (if any) has been read. */
  statement: (header: Buffer | undefined) => string;
  /** Batch mode: bytes per batch. Default 8 MiB. */
  batchBytes?: number;
  /**
   * Batch mode: builds the route that tells, for one record whose COPY failed with internal_error
   * (Citus), whether the record is at fault (see RecordProbe). Without it such a record fails the load.
   */
  probe?: (header: Buffer | undefined) => RecordProbe;
  /**
   * Batch mode: builds the staged route a failed batch is tried by first (batchStage.ts): one COPY into
   * a temporary table and set-based checks instead of a COPY into the target per bad record. Without
   * it, every failed batch is isolated by BatchCopier.
   */
  stage?: (header: Buffer | undefined) => BatchStage;
  /** Called for every rejected record; throws to stop the load (error budget spent). */
  onReject: (reject: Reject) => Promise<void>;
  /** Batch mode: called instead of onReject, when given, for many rejects at once (a staged batch's). */
  onRejects?: (rejects: Reject[]) => Promise<void>;
  /** How raw records are decoded for reports (the file's encoding, as Node names it). */
  textEncoding: BufferEncoding;
}

export type CopyStream = ReturnType<typeof copyStreams.from>;

export abstract class CopySink extends Writable {
  private sql: string | undefined;
  protected copy: CopyStream | undefined;
  protected copyDone: Promise<void> | undefined;
  /** Set when the current COPY failed: nothing more is written to it. */
  protected copyFailed = false;

  /** Milliseconds spent framing bytes (the byte scan). */
  scanMs = 0;
  /** Milliseconds spent handing bytes to COPY and waiting for it (backpressure, batches, the final ack). */
  copyWaitMs = 0;
  /** Records the decoder refused, reported as rejects (batch mode). */
  refused = 0;

  constructor(protected readonly o: CopyLoaderOptions) {
    super({ highWaterMark: 1 << 20 });
  }

  abstract get rowsLoaded(): number;
  abstract get rejected(): number;
  /** Takes the decoder's output pieces (with backpressure). */
  protected abstract take(pieces: Buffer[]): Promise<void>;
  /** The decoder has put out everything: ends the COPY(s). */
  protected abstract finish(): Promise<void>;
  /** A record the decoder refused: a reject, or the load's failure. */
  protected abstract refuseOne(reject: Reject): Promise<void>;
  /**
   * A sink's fast path for a read's output: undefined when it was taken at once, a promise to wait for,
   * or null when the general path must take it.
   */
  protected fastTake(_pieces: Buffer[]): Promise<void> | undefined | null {
    return null;
  }

  protected statement(): string {
    this.sql ??= this.o.statement(this.o.decoder.headerBytes);
    return this.sql;
  }

  protected watchCopy(copy: CopyStream): void {
    this.copyDone = trackCopy(finished(copy));
    this.copyDone.catch(() => {
      this.copyFailed = true;
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const out: Buffer[] = [];
    const t0 = performance.now();
    try {
      this.o.decoder.push(chunk, out);
    } catch (err) {
      done(err as Error);
      return;
    }
    const t1 = performance.now();
    this.scanMs += t1 - t0;
    const taken = (): void => done();
    let fast: Promise<void> | undefined | null;
    try {
      fast = this.fastTake(out);
    } catch (err) {
      // The COPY's statement is made at the first record, checking the header's columns: what that
      // throws is this write's error. Thrown on, it would leave through the source's 'data' event,
      // where Node before 24 ends the process with it.
      done(err as Error);
      return;
    }
    if (fast !== null) {
      if (!fast) {
        this.copyWaitMs += performance.now() - t1;
        taken();
        return;
      }
      fast.then(() => {
        this.copyWaitMs += performance.now() - t1;
        taken();
      }, done);
      return;
    }
    const later = { ms: 0 };
    this.refuse().then(() => this.take(out)).then(() => this.takeLater(later)).then(() => {
      this.scanMs += later.ms;
      this.copyWaitMs += performance.now() - t1 - later.ms;
      taken();
    }, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    const out: Buffer[] = [];
    this.o.decoder.end(out);
    const t1 = performance.now();
    const later = { ms: 0 };
    this.refuse()
      .then(() => this.take(out))
      .then(() => this.takeLater(later))
      .then(() => this.finish())
      .then(() => {
        this.scanMs += later.ms;
        this.copyWaitMs += performance.now() - t1 - later.ms;
        done();
      }, done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // Aborting mid-COPY: destroying the COPY stream sends CopyFail, so the server ends it with an error.
    if (this.copy && !this.copy.destroyed) this.copy.destroy(err ?? new Error('load aborted'));
    done(err);
  }

  private async refuse(): Promise<void> {
    for (const reject of takeRefused(this.o.decoder)) await this.refuseOne(reject);
  }

  /** The decoder's held-back output (decoder.ts: more), piece by piece with backpressure. */
  private async takeLater(spent: { ms: number }): Promise<void> {
    for (const piece of laterOutput(this.o.decoder, spent)) await this.take([piece]);
  }
}

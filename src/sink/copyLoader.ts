// The sink of a load: takes the source's bytes, has the decoder turn them into records, and feeds COPY.
//
// Two ways, chosen per job:
// - single: one COPY for the whole file, bytes streamed through with backpressure. Any bad record
//   fails the file (maxErrors 0). The fast path: no per-record work beyond the byte scan.
// - batch: the file's records go in batches of bounded size, each COPY under a SAVEPOINT. When a batch
//   fails on a record, it is rolled back to the savepoint and loaded again from memory by BatchCopier,
//   which rejects the bad records (with their original line and byte offset) and loads the rest.
//   The file stays one transaction: over the error budget, all of it rolls back.
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../db/pool.js';
import { hasSqlState, isDataError, recordErrorKind } from '../db/sqlstate.js';
import { IngestError } from '../errors.js';
import { trackCopy } from '../metrics.js';
import { doneWithInput, laterOutput, takeRefused, type RecordDecoder, type RecordPositions } from '../decode/decoder.js';
import { BatchCopier, type BatchStage } from './batchCopier.js';
import { copyErrorPosition } from './copySql.js';
import { clientSocket, CopyFrames } from './copyFrames.js';
import type { RecordProbe } from './recordProbe.js';
import { printable, type Reject } from './reject.js';

export type { Reject } from './reject.js';

/** Rejects in a staged batch that send the next batch straight to the stage. */
const DIRTY_REJECTS = 16;

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

export class CopyLoader extends Writable {
  private readonly o: CopyLoaderOptions;
  private sql: string | undefined;
  private copy: ReturnType<typeof copyStreams.from> | undefined;
  private copyDone: Promise<void> | undefined;
  /**
   * Batch mode: the pending batch's bytes, copied here as they come and this buffer reused batch after
   * batch. Holding the source's own buffers instead kept every socket read of a batch alive long enough
   * to outlive young-generation collections, and the heap grew with their husks until a full one ran.
   */
  private arena: Buffer | undefined;
  private batchSize = 0;
  /** Output offset where the pending batch starts. */
  private batchBase = 0;
  private singleRows = 0;

  constructor(o: CopyLoaderOptions) {
    super({ highWaterMark: 1 << 20 });
    this.o = o;
  }

  /** Milliseconds spent framing bytes (the byte scan). */
  scanMs = 0;
  /** Milliseconds spent handing bytes to COPY and waiting for it (backpressure, batches, the final ack). */
  copyWaitMs = 0;

  private statement(): string {
    this.sql ??= this.o.statement(this.o.decoder.headerBytes);
    return this.sql;
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
    // Once the pieces are copied on (into frames, or the batch's buffer), the chunk is done with.
    const taken = (): void => {
      doneWithInput(this.o.decoder, chunk);
      done();
    };
    if (this.o.mode === 'single' && !this.o.decoder.more && !this.o.decoder.invalid?.length) {
      // The fast path: a read's records are copied into the COPY's frames with no promise made unless
      // the frames ask the loader to wait.
      let wait: Promise<void> | undefined;
      try {
        wait = this.takeSingle(out);
      } catch (err) {
        // The COPY's statement is made at the first record, checking the header's columns: what that
        // throws is this write's error. Thrown on, it would leave through the source's 'data' event,
        // where Node before 24 ends the process with it.
        done(err as Error);
        return;
      }
      if (!wait) {
        this.copyWaitMs += performance.now() - t1;
        taken();
        return;
      }
      wait.then(() => {
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

  /**
   * Reports the records the decoder itself refused (never sent to COPY). In single mode the first one
   * fails the load as a bad record would, with its line.
   */
  private async refuse(): Promise<void> {
    for (const reject of takeRefused(this.o.decoder)) {
      if (this.o.mode === 'single') throw Object.assign(new Error(reject.message), { code: reject.sqlstate, reject });
      this.refused++;
      await this.o.onReject(reject);
    }
  }

  /** The decoder's held-back output (decoder.ts: more), piece by piece with backpressure. */
  private async takeLater(spent: { ms: number }): Promise<void> {
    for (const piece of laterOutput(this.o.decoder, spent)) await this.take([piece]);
  }

  /** Records the decoder refused (batch mode), reported as rejects. */
  refused = 0;

  private async take(pieces: Buffer[]): Promise<void> {
    if (pieces.length === 0) return;
    if (this.o.mode === 'single') {
      await this.takeSingle(pieces);
      return;
    }
    // Batch mode: the batch streams into its own COPY under a savepoint as it is read, and is kept in
    // memory; only when that COPY fails is the batch replayed record by record from memory.
    // A file that has shown many bad records sends its batches to the stage without this COPY.
    const copy = this.dirty ? undefined : await this.startBatchCopy();
    for (const piece of pieces) {
      const p = this.keep(piece);
      if (!copy || this.copyFailed) continue;
      try {
        if (!copy.write(p)) await Promise.race([new Promise((r) => copy.once('drain', r)), this.copyDone!.catch(() => undefined)]);
      } catch (err) {
        // The server ended this COPY meanwhile; flushBatch reads its outcome and replays if it was bad data.
        if (!copy.destroyed) copy.destroy(err as Error);
        this.copyFailed = true;
      }
    }
    if (this.batchSize >= (this.o.batchBytes ?? 8 << 20)) await this.flushBatch();
  }

  /** Copies a piece into the batch's buffer (grown when a batch runs over it); returns the copy. */
  private keep(piece: Buffer): Buffer {
    const start = this.batchSize;
    const end = start + piece.length;
    if (!this.arena || end > this.arena.length) {
      // Views of the old buffer still queued for COPY keep it alive until they are sent.
      const grown = Buffer.allocUnsafeSlow(Math.max(end, (this.o.batchBytes ?? 8 << 20) + (1 << 20), (this.arena?.length ?? 0) * 2));
      this.arena?.copy(grown, 0, 0, start);
      this.arena = grown;
    }
    piece.copy(this.arena, start);
    this.batchSize = end;
    return this.arena.subarray(start, end);
  }

  /** Set when the current COPY failed: nothing more is written to it (in batch mode the rest of the batch is only kept). */
  private copyFailed = false;

  private async startBatchCopy(): Promise<ReturnType<typeof copyStreams.from>> {
    if (this.copy) return this.copy;
    await this.o.client.query('SAVEPOINT citus_ingest_stream');
    const copy = this.o.client.query(copyStreams.from(this.statement()));
    this.copy = copy;
    this.copyFailed = false;
    this.watchCopy(copy);
    return copy;
  }

  private watchCopy(copy: ReturnType<typeof copyStreams.from>): void {
    this.copyDone = trackCopy(finished(copy));
    this.copyDone.catch(() => {
      this.copyFailed = true;
    });
  }

  /** Single mode: the COPY's input gathered into large CopyData messages (copyFrames.ts). */
  private frames: CopyFrames | undefined;

  private startSingle(): CopyFrames {
    if (!this.frames) {
      const copy = this.o.client.query(copyStreams.from(this.statement()));
      this.copy = copy;
      this.watchCopy(copy); // its outcome is observed in takeSingle() and finish()
      this.frames = new CopyFrames(copy, clientSocket(this.o.client), this.copyDone!);
    }
    return this.frames;
  }

  /**
   * Single mode: hands pieces to the frames. Undefined when the loader may go on at once, else a promise
   * to wait for (backpressure). The server may end the COPY with an error while bytes are still coming:
   * nothing more is written then, and the COPY's error is thrown.
   */
  private takeSingle(pieces: Buffer[]): Promise<void> | undefined {
    if (pieces.length === 0) return undefined;
    const frames = this.startSingle();
    if (this.copyFailed) return this.failSingle(undefined);
    const wait = frames.add(pieces);
    if (!wait) return undefined;
    return wait.then(
      () => (this.copyFailed ? this.failSingle(undefined) : undefined),
      (err: unknown) => this.failSingle(err),
    );
  }

  /** Whatever the writes ran into, the COPY's own outcome (the server's error) is the one to report. */
  private async failSingle(err: unknown): Promise<never> {
    const copy = this.copy!;
    if (err !== undefined && !copy.destroyed) copy.destroy(err as Error);
    throw this.singleFailure(await this.copyDone!.then(() => err ?? new Error('the COPY ended before its input did'), (copyErr: unknown) => copyErr));
  }

  private async finish(): Promise<void> {
    if (this.o.mode === 'batch') {
      await this.flushBatch();
      return;
    }
    this.statement(); // checks the header's columns even when there is no data
    if (!this.frames) return;
    try {
      await this.frames.end();
    } catch (err) {
      await this.failSingle(err);
    }
    if (this.copyFailed) await this.failSingle(undefined);
    this.copy!.end();
    try {
      await this.copyDone;
    } catch (err) {
      throw this.singleFailure(err);
    }
    this.singleRows = this.copy!.rowCount ?? 0;
  }

  /** The single COPY failed: one reject, reported with the line mapped back to the file. */
  private singleFailure(err: unknown): unknown {
    if (!hasSqlState(err) || !isDataError(err)) return err;
    const pos = copyErrorPosition(err);
    const line = pos.record !== undefined ? this.o.decoder.originalLine(pos.record) : null;
    const text = /: "(.*)"$/s.exec((err as { where?: string }).where?.split('\n')[0] ?? '')?.[1] ?? '';
    const reject: Reject = {
      line,
      byteOffset: null,
      column: pos.column ?? null,
      sqlstate: err.code,
      message: err.message ?? '',
      record: printable(text),
    };
    return Object.assign(err as object, { reject });
  }

  private async flushBatch(): Promise<void> {
    // The framer adds nothing while a batch is flushed (the next write waits for this one), so the
    // batch's records are read from its list in place and the list is emptied once they are loaded.
    const records = this.o.decoder.records;
    if (records.length === 0 && this.batchSize === 0) {
      this.statement();
      return;
    }
    try {
      await this.flushRecords(records);
    } finally {
      records.clear();
    }
  }

  private async flushRecords(records: RecordPositions): Promise<void> {
    // Every byte of the batch was sent by the time its COPY ends (or is replayed from here below), so
    // the next batch may write over this one.
    const data = this.arena?.subarray(0, this.batchSize) ?? Buffer.alloc(0);
    const base = this.batchBase;
    this.batchBase += this.batchSize;
    this.batchSize = 0;
    const copy = this.copy;
    this.copy = undefined;
    const client = this.o.client;
    if (copy) {
      copy.end();
      let failure: unknown;
      try {
        await this.copyDone;
      } catch (err) {
        failure = err;
      }
      if (failure === undefined) {
        await client.query('RELEASE SAVEPOINT citus_ingest_stream');
        if ((copy.rowCount ?? 0) !== records.length) {
          throw new IngestError('RECORD_COUNT_MISMATCH', `a batch of ${records.length} records loaded ${copy.rowCount} rows; nothing was committed`, {
            recordsSent: records.length,
            rowsLoaded: copy.rowCount,
          });
        }
        this.batchCopier().rowsLoaded += records.length;
        return;
      }
      if (recordErrorKind(failure) === 'system') throw failure;
      // A bad record in the batch (or, on Citus, maybe one): undo the batch and load it again from
      // memory, isolating the bad ones, starting from what this COPY's error said.
      await client.query('ROLLBACK TO SAVEPOINT citus_ingest_stream; RELEASE SAVEPOINT citus_ingest_stream');
      await this.watchDirt(() => this.batchCopier().load(data, base, records, failure));
      return;
    }
    await this.watchDirt(() => (this.dirty ? this.batchCopier().loadDirty(data, base, records) : this.batchCopier().load(data, base, records)));
  }

  /**
   * Set while the last batch went through the stage with at least DIRTY_REJECTS rejects: the next one
   * goes there directly. A batch the stage finds clean, or a table it does not cover, clears it.
   */
  private dirty = false;

  private async watchDirt(load: () => Promise<void>): Promise<void> {
    const b = this.batchCopier();
    const before = { staged: b.stagedBatches, rejected: b.rejected };
    await load();
    this.dirty = b.stagedBatches > before.staged && b.rejected - before.rejected >= DIRTY_REJECTS;
  }

  private batcher: BatchCopier | undefined;
  private probe: RecordProbe | undefined;
  private stage: BatchStage | undefined;

  private batchCopier(): BatchCopier {
    this.batcher ??= new BatchCopier({
      client: this.o.client,
      statement: () => this.statement(),
      onReject: this.o.onReject,
      ...(this.o.onRejects ? { onRejects: this.o.onRejects } : {}),
      textEncoding: this.o.textEncoding,
      ...(this.o.probe ? { probe: () => (this.probe ??= this.o.probe!(this.o.decoder.headerBytes)) } : {}),
      ...(this.o.stage ? { stage: () => (this.stage ??= this.o.stage!(this.o.decoder.headerBytes)) } : {}),
    });
    return this.batcher;
  }

  get rowsLoaded(): number {
    return this.o.mode === 'batch' ? (this.batcher?.rowsLoaded ?? 0) : this.singleRows;
  }

  get rejected(): number {
    return this.batcher?.rejected ?? 0;
  }
}

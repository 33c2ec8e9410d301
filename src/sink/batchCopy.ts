// The batch sink: the file's records go in batches of bounded size, each COPY under a SAVEPOINT, the
// batch kept in memory as it streams. When a batch fails on a record, it is rolled back to the savepoint
// and loaded again from memory by BatchCopier, which rejects the bad records (with their original line
// and byte offset) and loads the rest. The file stays one transaction: over the error budget, all of
// it rolls back.
import copyStreams from 'pg-copy-streams';
import { recordErrorKind } from '../db/sqlstate.js';
import { IngestError } from '../errors.js';
import type { RecordPositions } from '../decode/decoder.js';
import { BatchCopier, type BatchStage } from './batchCopier.js';
import { CopySink, type CopyStream } from './copySink.js';
import type { RecordProbe } from './recordProbe.js';
import type { Reject } from './reject.js';

/** Rejects in a staged batch that send the next batch straight to the stage. */
const DIRTY_REJECTS = 16;
const DEFAULT_BATCH_BYTES = 8 << 20;

export class BatchCopy extends CopySink {
  /**
   * The pending batch's bytes, copied here as they come and this buffer reused batch after batch.
   * Holding the source's own buffers instead kept every socket read of a batch alive until the
   * collector ran, and the heap grew with their husks.
   */
  private arena: Buffer | undefined;
  private batchSize = 0;
  /** Output offset where the pending batch starts. */
  private batchBase = 0;
  /**
   * Set while the last batch went through the stage with at least DIRTY_REJECTS rejects: the next one
   * goes there directly. A batch the stage finds clean, or a table it does not cover, clears it.
   */
  private dirty = false;
  private batcher: BatchCopier | undefined;
  private probe: RecordProbe | undefined;
  private stage: BatchStage | undefined;

  get rowsLoaded(): number {
    return this.batcher?.rowsLoaded ?? 0;
  }

  get rejected(): number {
    return this.batcher?.rejected ?? 0;
  }

  private get batchBytes(): number {
    return this.o.batchBytes ?? DEFAULT_BATCH_BYTES;
  }

  protected async refuseOne(reject: Reject): Promise<void> {
    this.refused++;
    await this.o.onReject(reject);
  }

  /**
   * The batch streams into its own COPY under a savepoint as it is read, and is kept in memory; only
   * when that COPY fails is the batch replayed record by record from memory. A file that has shown many
   * bad records sends its batches to the stage without this COPY.
   */
  protected async take(pieces: Buffer[]): Promise<void> {
    if (pieces.length === 0) return;
    const copy = this.dirty ? undefined : await this.startCopy();
    for (const piece of pieces) {
      const p = this.keep(piece);
      if (!copy || this.copyFailed) continue;
      try {
        if (!copy.write(p)) await Promise.race([new Promise((r) => copy.once('drain', r)), this.copyDone!.catch(() => undefined)]);
      } catch (err) {
        // The server ended this COPY meanwhile; flush reads its outcome and replays if it was bad data.
        if (!copy.destroyed) copy.destroy(err as Error);
        this.copyFailed = true;
      }
    }
    if (this.batchSize >= this.batchBytes) await this.flush();
  }

  protected finish(): Promise<void> {
    return this.flush();
  }

  /** Copies a piece into the batch's buffer (grown when a batch runs over it); returns the copy. */
  private keep(piece: Buffer): Buffer {
    const start = this.batchSize;
    const end = start + piece.length;
    if (!this.arena || end > this.arena.length) {
      // Views of the old buffer still queued for COPY keep it alive until they are sent.
      const grown = Buffer.allocUnsafeSlow(Math.max(end, this.batchBytes + (1 << 20), (this.arena?.length ?? 0) * 2));
      this.arena?.copy(grown, 0, 0, start);
      this.arena = grown;
    }
    piece.copy(this.arena, start);
    this.batchSize = end;
    return this.arena.subarray(start, end);
  }

  private async startCopy(): Promise<CopyStream> {
    if (this.copy) return this.copy;
    await this.o.client.query('SAVEPOINT citus_ingest_stream');
    const copy = this.o.client.query(copyStreams.from(this.statement()));
    this.copy = copy;
    this.copyFailed = false;
    this.watchCopy(copy);
    return copy;
  }

  private async flush(): Promise<void> {
    // The decoder adds nothing while a batch is flushed (the next write waits for this one), so the
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
    if (!copy) {
      await this.watchDirt(() => (this.dirty ? this.copier().loadDirty(data, base, records) : this.copier().load(data, base, records)));
      return;
    }
    copy.end();
    const failure = await this.copyDone!.then(() => undefined, (err: unknown) => err ?? new Error('the COPY failed'));
    if (failure === undefined) {
      await client.query('RELEASE SAVEPOINT citus_ingest_stream');
      if ((copy.rowCount ?? 0) !== records.length) {
        throw new IngestError('RECORD_COUNT_MISMATCH', `a batch of ${records.length} records loaded ${copy.rowCount} rows; nothing was committed`, {
          recordsSent: records.length,
          rowsLoaded: copy.rowCount,
        });
      }
      this.copier().rowsLoaded += records.length;
      return;
    }
    if (recordErrorKind(failure) === 'system') throw failure;
    // A bad record in the batch (or, on Citus, maybe one): undo the batch and load it again from
    // memory, isolating the bad ones, starting from what this COPY's error said.
    await client.query('ROLLBACK TO SAVEPOINT citus_ingest_stream; RELEASE SAVEPOINT citus_ingest_stream');
    await this.watchDirt(() => this.copier().load(data, base, records, failure));
  }

  private async watchDirt(load: () => Promise<void>): Promise<void> {
    const b = this.copier();
    const before = { staged: b.stagedBatches, rejected: b.rejected };
    await load();
    this.dirty = b.stagedBatches > before.staged && b.rejected - before.rejected >= DIRTY_REJECTS;
  }

  private copier(): BatchCopier {
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
}

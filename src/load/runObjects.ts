// The run's objects through its shape: each listed object (a page at a time, `shape.concurrency` at
// once, within the worker's object slots) is loaded by the shape, and its outcome counted, logged and
// recorded in the run's files. Keeps the run's live progress and what is committed so far.
import type { Pool } from '../db/pool.js';
import type { Logger } from '../log.js';
import type { ObjectInfo, ObjectSource } from '../sources/source.js';
import { recordRunFile } from '../sql/runFiles.js';
import { classify } from './classify.js';
import { mapPages } from './mapPages.js';
import type { FileProgress, FileResult } from './objectLoad.js';
import { RunTotals } from './runTotals.js';
import type { Semaphore } from './semaphore.js';
import type { LoadShape, RunIds } from './shapes/shape.js';
import type { StageTimer } from './stageTimer.js';

export interface ObjectsContext {
  pool: Pool;
  log: Logger;
  ids: RunIds;
  signal: AbortSignal;
  timer: StageTimer;
  source: ObjectSource;
  /** The worker's global limit on objects loading at once, across its jobs (WORKER_MAX_OBJECTS). */
  objectSlots?: Semaphore | undefined;
}

export class RunObjects {
  readonly totals = new RunTotals();
  /** Rows, rejects and bytes committed so far (they stay when the run fails later). */
  committed = { rows: 0, rejected: 0, bytes: 0 };
  /** The run's live progress: bytes read and rows loaded, the objects in flight included. */
  progress = { bytesRead: 0, rowsLoaded: 0 };
  private readonly inFlight = new Map<string, FileProgress>();

  constructor(
    private readonly ctx: ObjectsContext,
    private readonly shape: LoadShape,
  ) {}

  /** Loads every object of `pages`; rejects with the first failure once the running loads have ended. */
  run(pages: AsyncIterable<ObjectInfo[]>): Promise<void> {
    return mapPages(pages, this.shape.concurrency, this.ctx.signal, (object) => this.one(object));
  }

  private async one(object: ObjectInfo): Promise<void> {
    const { ctx } = this;
    await ctx.objectSlots?.acquire(ctx.signal);
    try {
      const result = await this.shape.load({ object, source: ctx.source, onProgress: (p) => this.onProgress(object, p) });
      this.inFlight.delete(object.key);
      await this.done(object, result);
    } catch (err) {
      if (!ctx.signal.aborted) {
        const e = classify(err, { url: ctx.source.url(object) });
        await recordRunFile(ctx.pool, {
          runId: ctx.ids.runId, jobId: ctx.ids.jobId, object,
          status: 'failed', rowsLoaded: 0, bytesRead: this.inFlight.get(object.key)?.bytes ?? 0, timings: {}, error: e.toJSON(),
        }).catch(() => {});
      }
      throw err;
    } finally {
      ctx.objectSlots?.release();
    }
  }

  private onProgress(object: ObjectInfo, p: FileProgress): void {
    this.inFlight.set(object.key, p);
    let bytes = 0;
    let records = 0;
    for (const f of this.inFlight.values()) {
      bytes += f.bytes;
      records += f.records;
    }
    this.progress = { bytesRead: this.totals.bytesRead + bytes, rowsLoaded: this.committed.rows + records };
  }

  private async done(object: ObjectInfo, result: FileResult): Promise<void> {
    const { ctx } = this;
    if (result.status === 'loaded' && this.shape.commitsEachObject) {
      const c = this.committed;
      this.committed = { rows: c.rows + result.rowsLoaded, rejected: c.rejected + result.rowsRejected, bytes: c.bytes + result.bytesRead };
    }
    this.totals.add(ctx.source.url(object), result);
    for (const [name, ms] of Object.entries(result.timings)) {
      if (name !== 'totalMs' && typeof ms === 'number') ctx.timer.add(name as keyof typeof result.timings, ms);
    }
    const fileLog = ctx.log.child({ key: object.key });
    if (result.status === 'skipped') {
      await recordRunFile(ctx.pool, {
        runId: ctx.ids.runId, jobId: ctx.ids.jobId, object,
        status: 'skipped', rowsLoaded: 0, bytesRead: 0, loadedByRun: result.loadedBy!.runId, timings: result.timings,
      });
      fileLog.info({ loadedBy: result.loadedBy }, 'object loaded meanwhile by another job (its ledger row appeared); skipped');
    } else {
      fileLog.info({ rows: result.rowsLoaded, rejected: result.rowsRejected, bytes: result.bytesRead, timings: result.timings }, `object ${result.status}`);
    }
  }
}

// One attempt at a table operation job (rebalance, analyze): the same run, progress, cancel and result
// bookkeeping as a load. A rebalance starts Citus's background rebalancer and follows it: its progress
// counts shard moves done (as progress.rowsLoaded, so the samples chart them) and bytes moved (as
// progress.bytesRead); a cancel calls citus_rebalance_stop(); the run records the shard layout before
// and after, with the skew of each.
import type { Pool } from '../db/pool.js';
import { hasSqlState, isRetryableDbError } from '../db/sqlstate.js';
import { IngestError, asIngestError } from '../errors.js';
import type { Logger } from '../log.js';
import { specDefaults } from '../jobs/spec.js';
import { finishRun } from '../sql/finishRun.js';
import { recordProgress } from '../sql/recordProgress.js';
import type { StartedRun } from '../sql/startRun.js';
import { citusVersion, shardLayout } from '../sink/citus.js';
import { operationTable } from './operationTable.js';
import { finishedStates, moved, placements, plannedMoves, rebalanceStatus, startRebalance, stopRebalance } from '../sink/rebalance.js';
import { StageTimer } from '../load/stageTimer.js';

export interface OperationContext {
  pool: Pool;
  log: Logger;
  progressIntervalMs: number;
  /** Aborted when the worker shuts down: the run stops following (Citus's rebalance goes on by itself). */
  signal: AbortSignal;
  /** TARGET_ALLOWED_SCHEMAS; empty (the default) means any but the reserved ones. */
  allowedSchemas?: readonly string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ANALYZE a table (on Citus the coordinator runs it on every shard). */
export async function analyzeTable(pool: Pool, qualified: string): Promise<void> {
  await pool.query(`ANALYZE ${qualified}`);
}

export async function runTableOperation(
  ctx: OperationContext,
  started: StartedRun,
  attempt: { attemptsMade: number; attempts: number },
): Promise<'succeeded' | 'cancelled'> {
  const { job, runId } = started;
  const jobId = job.id;
  const op = job.spec.tableOperation!;
  const table = job.target;
  const log = ctx.log.child({ jobId, runId, operation: op.kind });
  const timer = new StageTimer();
  timer.add('queueWaitMs', started.queueWaitMs);
  let progress = { done: 0, bytes: 0 };
  try {
    // Checked again here, on what the catalog resolves now, whatever was checked at submit.
    const { oid } = await operationTable(ctx.pool, table, ctx.allowedSchemas ?? []);
    if (op.kind === 'analyze') {
      await timer.time('analyzeMs', () => analyzeTable(ctx.pool, table));
      const timings = timer.finish();
      await finishRun(ctx.pool, { jobId, runId, runStatus: 'succeeded', jobStatus: 'succeeded', rowsLoaded: 0, bytesRead: 0, bytesTotal: null, timings, result: { operation: 'analyze', table } });
      log.info({ timings }, 'table analyzed');
      return 'succeeded';
    }

    if (!(await citusVersion(ctx.pool))) throw new IngestError('CITUS_NOT_AVAILABLE', `rebalancing ${table} needs Citus; this database has no citus extension`, { table });
    const strategy = op.strategy ?? specDefaults.tableOperation.strategy;
    const drainOnly = op.drainOnly ?? specDefaults.tableOperation.drainOnly;
    const layoutBefore = await timer.time('layoutMs', () => shardLayout(ctx.pool, oid));
    const before = await placements(ctx.pool, table);
    const planned = await plannedMoves(ctx.pool, table, strategy, drainOnly);
    const citusJob = planned > 0 ? await startRebalance(ctx.pool, strategy, drainOnly) : undefined;
    log.info({ planned, citusJob, strategy, drainOnly }, 'rebalance started');
    const rebalanceStarted = performance.now();
    let state = citusJob === undefined ? 'finished' : 'scheduled';
    let total = planned;
    let cancelled = false;
    let message: string | undefined;
    while (citusJob !== undefined && !finishedStates.has(state)) {
      await sleep(ctx.progressIntervalMs);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const status = await rebalanceStatus(ctx.pool, citusJob);
      if (!status) break;
      state = status.state;
      message = status.message ?? message;
      // Citus plans the moves of every colocation group that needs them; its own task count is the truth.
      total = Math.max(Object.values(status.counts).reduce((a, b) => a + b, 0), planned);
      progress = { done: status.counts.done ?? 0, bytes: moved(before, await placements(ctx.pool, table)).bytes };
      const { cancelRequested } = await recordProgress(ctx.pool, jobId, runId, timer.elapsed(), { rowsLoaded: progress.done, bytesRead: progress.bytes, bytesTotal: null });
      if (cancelRequested && !cancelled) {
        cancelled = true;
        log.info('cancel requested: citus_rebalance_stop()');
        await stopRebalance(ctx.pool);
      }
    }
    timer.add('rebalanceMs', performance.now() - rebalanceStarted);
    const after = await placements(ctx.pool, table);
    const layoutAfter = await shardLayout(ctx.pool, oid);
    const m = moved(before, after);
    const result = {
      operation: 'rebalance', table, strategy, drainOnly, citusJobId: citusJob ?? null, state,
      movesPlanned: total, movesDone: m.shards, bytesMoved: m.bytes,
      layoutBefore: layoutBefore ?? null, layoutAfter: layoutAfter ?? null,
    };
    const common = { jobId, runId, rowsLoaded: m.shards, bytesRead: m.bytes, bytesTotal: null, result, ...(layoutAfter ? { shardLayout: layoutAfter } : {}) };
    if (state === 'cancelled' || cancelled) {
      const err = new IngestError('CANCELLED', `cancelled on request: citus_rebalance_stop() after ${m.shards} of ${total} shard moves; the shards moved stay moved`);
      await finishRun(ctx.pool, { ...common, runStatus: 'cancelled', jobStatus: 'cancelled', timings: timer.finish(), error: err.toJSON() });
      return 'cancelled';
    }
    if (state !== 'finished') {
      throw new IngestError('DATABASE_ERROR', `the Citus rebalance of ${table} ended ${state}${message ? `: ${message}` : ''}; ${m.shards} of ${total} shard moves were done`, { state, citusJobId: citusJob });
    }
    await finishRun(ctx.pool, { ...common, runStatus: 'succeeded', jobStatus: 'succeeded', timings: timer.finish() });
    log.info({ moves: m.shards, bytes: m.bytes }, 'rebalance finished');
    return 'succeeded';
  } catch (thrown) {
    const err = classifyOperationError(thrown, table);
    if (err.code === 'CANCELLED') {
      await finishRun(ctx.pool, { jobId, runId, runStatus: 'cancelled', jobStatus: 'cancelled', rowsLoaded: progress.done, bytesRead: progress.bytes, bytesTotal: null, timings: timer.finish(), error: err.toJSON() });
      return 'cancelled';
    }
    const willRetry = err.retryable && attempt.attemptsMade + 1 < attempt.attempts;
    await finishRun(ctx.pool, {
      jobId, runId, runStatus: 'failed', jobStatus: willRetry ? 'queued' : 'failed', rowsLoaded: progress.done, bytesRead: progress.bytes,
      bytesTotal: null, timings: timer.finish(), error: err.toJSON(),
    }).catch((e) => log.error({ err: e }, 'could not record the failed run'));
    throw err;
  }
}

/** A database failure by SQLSTATE: a lost connection is retried, anything else is reported as it is. */
function classifyOperationError(err: unknown, table: string): IngestError {
  if (err instanceof IngestError) return err;
  if (isRetryableDbError(err)) return new IngestError('DATABASE_UNAVAILABLE', `the database connection failed during an operation on ${table}: ${(err as Error).message}`, { table }, { cause: err });
  if (hasSqlState(err)) {
    return new IngestError('DATABASE_ERROR', `PostgreSQL refused an operation on ${table} (SQLSTATE ${err.code}): ${String((err as { message?: string }).message)}`, { table, sqlstate: err.code }, { cause: err });
  }
  return asIngestError(err);
}

// How a run's end is written down: its row and its job's (sql/finishRun.ts, through runEnd.ts's retries
// while the database is away), the run's metrics, and its log line. One function per way a run ends.
import type { Pool } from '../db/pool.js';
import type { IngestError } from '../errors.js';
import type { Logger } from '../log.js';
import { observeRun } from '../metrics.js';
import { finishRun } from '../sql/finishRun.js';
import type { ShardLayout } from '../sink/citus.js';
import type { Timings } from '../sql/jobRows.js';
import { recordRunEnd } from './runEnd.js';
import type { RunObjects } from './runObjects.js';
import type { RunIds, ShapeEnd } from './shapes/shape.js';

/** Where the listing stood when the run ended: the totals are known once it is complete. */
export interface ListingState {
  bytesTotal: number | null;
  listing: { complete: boolean; objects: number } | null;
}

interface EndContext {
  pool: Pool;
  log: Logger;
  ids: RunIds;
  signal: AbortSignal;
  timings: Timings;
  listing: ListingState;
}

export async function recordSucceeded(
  e: EndContext,
  run: RunObjects,
  end: ShapeEnd,
  target: { created: boolean; distributed: unknown },
  layout: ShardLayout | undefined,
): Promise<void> {
  const { totals } = run;
  const { rowsLoaded } = end;
  const { rowsRejected, bytesRead } = totals;
  await recordRunEnd(() => finishRun(e.pool, {
    jobId: e.ids.jobId, runId: e.ids.runId, runStatus: 'succeeded', jobStatus: 'succeeded', rowsLoaded, rowsRejected, bytesRead, ...e.listing, timings: e.timings,
    ...(layout ? { shardLayout: layout } : {}),
    result: {
      target: { table: e.ids.target, ...target },
      rowsLoaded,
      rowsRejected,
      blankLines: totals.blankLines,
      bytesRead,
      filesLoaded: totals.filesLoaded,
      filesSkipped: totals.filesSkipped,
      ...end.result,
      ...(totals.skipped.length ? { skipped: totals.skipped } : {}),
      rejects: { count: rowsRejected, first: totals.firstRejects },
    },
  }), e.signal);
  observeRun({ status: 'succeeded', rowsLoaded, rowsRejected, bytesRead, timings: e.timings });
  e.log.info({ rows: rowsLoaded, rejected: rowsRejected, timings: e.timings }, 'run succeeded');
}

/** A cancelled run: what it committed before the cancel stays, the rest was rolled back. */
export async function recordCancelled(e: EndContext, run: RunObjects | undefined, err: IngestError): Promise<void> {
  const committed = run?.committed ?? { rows: 0, rejected: 0 };
  const bytesRead = run?.progress.bytesRead ?? 0;
  await finishRun(e.pool, { jobId: e.ids.jobId, runId: e.ids.runId, runStatus: 'cancelled', jobStatus: 'cancelled', rowsLoaded: committed.rows, bytesRead, ...e.listing, timings: e.timings, error: err.toJSON() });
  observeRun({ status: 'cancelled', rowsLoaded: committed.rows, rowsRejected: committed.rejected, bytesRead, timings: e.timings });
  e.log.info('run cancelled and rolled back');
}

/** A failed run: queued again when the error is retryable and attempts remain, failed for good otherwise. */
export async function recordFailed(e: EndContext, run: RunObjects | undefined, err: IngestError, willRetry: boolean): Promise<void> {
  const committed = run?.committed ?? { rows: 0, rejected: 0 };
  const bytesRead = run?.progress.bytesRead ?? 0;
  await recordRunEnd(() => finishRun(e.pool, {
    jobId: e.ids.jobId, runId: e.ids.runId, runStatus: 'failed', jobStatus: willRetry ? 'queued' : 'failed', rowsLoaded: committed.rows,
    rowsRejected: committed.rejected, bytesRead, ...e.listing, timings: e.timings, error: err.toJSON(),
    result: { rowsLoaded: committed.rows, note: committed.rows > 0 ? 'files loaded before the failure stay loaded (file atomicity); a retry skips them' : undefined },
  }), e.signal).catch((writeErr) => e.log.error({ err: writeErr }, 'could not record the failed run'));
  observeRun({ status: 'failed', rowsLoaded: committed.rows, rowsRejected: committed.rejected, bytesRead, timings: e.timings });
  e.log.warn({ code: err.code, message: err.message, willRetry }, 'run failed');
}

// Closes a run and moves its job to the matching state, in one transaction. An end PostgreSQL refuses
// to store as it is still ends the job: failed, with RUN_END_NOT_RECORDED, instead of a run left
// 'running' that the reconciler queues again and again.
import type { Pool } from '../db/pool.js';
import { hasSqlState, isRetryableDbError } from '../db/sqlstate.js';
import { inTransaction } from '../db/transaction.js';
import type { ErrorBody } from '../errors.js';
import type { ShardLayout } from '../sink/citus.js';
import type { JobStatus, RunStatus, Timings } from './jobRows.js';
import { MAX_SAMPLES, type ListingProgress } from './recordProgress.js';
import { storableJson, storableText } from './storable.js';
import { traceRunEnd } from '../telemetry/runSpans.js';
import { observeTargetRun } from '../metrics.js';

export interface RunOutcome {
  jobId: string;
  runId: string;
  runStatus: RunStatus;
  /** The job's next state: 'queued' when another attempt follows. */
  jobStatus: JobStatus;
  rowsLoaded: number;
  rowsRejected?: number;
  bytesRead: number;
  bytesTotal: number | null;
  /** How far the run's listing got (a load); left as it was when absent. */
  listing?: ListingProgress | null;
  timings: Timings;
  error?: ErrorBody;
  result?: Record<string, unknown>;
  shardLayout?: ShardLayout;
}

/**
 * Writes the run's end. A transient failure (the connection lost) is thrown for the caller to retry
 * (load/runEnd.ts); any other failure to store it writes the job's end as RUN_END_NOT_RECORDED.
 */
export async function finishRun(pool: Pool, o: RunOutcome): Promise<void> {
  let written = o;
  let target: string | undefined;
  try {
    target = await writeRunEnd(pool, o);
  } catch (err) {
    if (isRetryableDbError(err)) throw err;
    written = unrecordedEnd(o, err);
    target = await writeRunEnd(pool, written);
  }
  // The run's outcome and stage spans (telemetry/runSpans.ts), and a load's target counters: where its result is recorded.
  traceRunEnd(written);
  if (target !== undefined && written.runStatus !== 'running') {
    observeTargetRun({ target, status: written.runStatus, rowsLoaded: written.rowsLoaded, rowsRejected: written.rowsRejected, bytesRead: written.bytesRead, seconds: (written.timings.totalMs ?? 0) / 1000 });
  }
}

/** The end to write instead: failed for good, saying how the run really ended and what was refused. */
function unrecordedEnd(o: RunOutcome, err: unknown): RunOutcome {
  const how = o.error ? `${o.runStatus} (${o.error.code})` : o.runStatus;
  const why = storableText(err instanceof Error ? err.message : String(err));
  return {
    jobId: o.jobId, runId: o.runId, runStatus: 'failed', jobStatus: 'failed',
    rowsLoaded: o.rowsLoaded, bytesRead: o.bytesRead, bytesTotal: o.bytesTotal, timings: o.timings,
    ...(o.rowsRejected !== undefined ? { rowsRejected: o.rowsRejected } : {}),
    error: {
      code: 'RUN_END_NOT_RECORDED',
      message: `the run ended ${how}, but how it ended could not be stored: ${why}`,
      details: { runStatus: o.runStatus, ...(o.error ? { code: o.error.code } : {}), ...(hasSqlState(err) ? { sqlstate: err.code } : {}) },
    },
  };
}

/** Writes the job's and the run's rows; resolves with the load's target (undefined for a table operation). */
async function writeRunEnd(pool: Pool, o: RunOutcome): Promise<string | undefined> {
  return inTransaction(pool, async (client) => {
    // The job's row first, then its run's: the order startRun and recordProgress lock them in. Run's
    // first, a progress write still in flight when the run ended (it locks the job, then the run)
    // deadlocked with this transaction; the run then failed after its files had committed.
    const terminal = o.jobStatus !== 'queued' && o.jobStatus !== 'running';
    const job = await client.query<{ target: string; table_operation: boolean }>(
      `UPDATE ingest.jobs SET status = $2, rows_loaded = $3, bytes_read = $4, bytes_total = coalesce($5, bytes_total),
              error = $6, result = coalesce($7, result), updated_at = clock_timestamp(),
              objects_listed = coalesce($9, objects_listed), listing_complete = coalesce($10, listing_complete),
              finished_at = CASE WHEN $8 THEN clock_timestamp() ELSE NULL END
        WHERE id = $1
        RETURNING target, (spec -> 'tableOperation') IS NOT NULL AS table_operation`,
      [
        o.jobId,
        o.jobStatus,
        o.rowsLoaded,
        o.bytesRead,
        o.bytesTotal,
        o.error ? storableJson(o.error) : null,
        o.result ? storableJson(o.result) : null,
        terminal,
        o.listing?.objects ?? null,
        o.listing?.complete ?? null,
      ],
    );
    // A run that succeeded gets a last sample with its final counts, so its chart ends where the run did.
    await client.query(
      `UPDATE ingest.runs SET status = $2, finished_at = clock_timestamp(), rows_loaded = $3, bytes_read = $4,
              timings = timings || $5::jsonb, error = $6, shard_layout = $7, rows_rejected = $8,
              samples = CASE WHEN $2 = 'succeeded' AND jsonb_array_length(samples) < ${MAX_SAMPLES}
                THEN samples || jsonb_build_array(jsonb_build_array(
                  round(extract(epoch FROM clock_timestamp() - started_at) * 1000)::int, $3::bigint, $4::bigint))
                ELSE samples END
        WHERE id = $1`,
      [
        o.runId, o.runStatus, o.rowsLoaded, o.bytesRead, storableJson(o.timings),
        o.error ? storableJson(o.error) : null, o.shardLayout ? storableJson(o.shardLayout) : null,
        o.rowsRejected ?? 0,
      ],
    );
    // A table operation's counts are shards and bytes moved, not rows and bytes loaded: not a load's.
    return job.rows[0]?.table_operation ? undefined : job.rows[0]?.target;
  });
}

// Closes a run and moves its job to the matching state, in one transaction.
import type { Pool } from '../db/pool.js';
import { inTransaction } from '../db/transaction.js';
import type { ErrorBody } from '../errors.js';
import type { ShardLayout } from '../sink/citus.js';
import type { JobStatus, RunStatus, Timings } from './jobRows.js';
import { MAX_SAMPLES, type ListingProgress } from './recordProgress.js';
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

export async function finishRun(pool: Pool, o: RunOutcome): Promise<void> {
  const target = await inTransaction(pool, async (client) => {
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
        o.error ? JSON.stringify(o.error) : null,
        o.result ? JSON.stringify(o.result) : null,
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
        o.runId, o.runStatus, o.rowsLoaded, o.bytesRead, JSON.stringify(o.timings),
        o.error ? JSON.stringify(o.error) : null, o.shardLayout ? JSON.stringify(o.shardLayout) : null,
        o.rowsRejected ?? 0,
      ],
    );
    // A table operation's counts are shards and bytes moved, not rows and bytes loaded: not a load's.
    return job.rows[0]?.table_operation ? undefined : job.rows[0]?.target;
  });
  // The run's outcome and stage spans (telemetry/runSpans.ts), and a load's target counters: where its result is recorded.
  traceRunEnd(o);
  if (target !== undefined && o.runStatus !== 'running') {
    observeTargetRun({ target, status: o.runStatus, rowsLoaded: o.rowsLoaded, rowsRejected: o.rowsRejected, bytesRead: o.bytesRead, seconds: (o.timings.totalMs ?? 0) / 1000 });
  }
}

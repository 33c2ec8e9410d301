// Claims a job for a new attempt: moves it to running and opens a run row. Returns undefined when the
// job is finished, cancelled, or gone, so a duplicate delivery does nothing.
import type { Pool } from '../db/pool.js';
import { inTransaction, Rollback } from '../db/transaction.js';
import type { JobRow } from './jobRows.js';

export interface StartedRun {
  job: JobRow;
  runId: string;
  attempt: number;
  queueWaitMs: number;
}

export async function startRun(pool: Pool, jobId: string, runId: string, worker: string): Promise<StartedRun | undefined> {
  return inTransaction(pool, async (client): Promise<StartedRun | undefined> => {
    const claimed = await client.query<JobRow & { waited_ms: number }>(
      `UPDATE ingest.jobs j
          SET status = 'running', attempts = attempts + 1, error = NULL,
              started_at = coalesce(started_at, clock_timestamp()), updated_at = clock_timestamp()
        WHERE id = $1 AND status IN ('queued', 'running') AND NOT cancel_requested
        RETURNING j.*,
          (extract(epoch FROM clock_timestamp() - coalesce(
             (SELECT max(finished_at) FROM ingest.runs r WHERE r.job_id = j.id), j.created_at)) * 1000)::float8 AS waited_ms`,
      [jobId],
    );
    const job = claimed.rows[0];
    if (!job) throw new Rollback(undefined);
    // A run left 'running' by a worker that died is closed as failed before the new one opens.
    await client.query(
      `UPDATE ingest.runs SET status = 'failed', finished_at = clock_timestamp(),
              error = '{"code":"SHUTTING_DOWN","message":"the worker running this attempt stopped without finishing it; the attempt was rolled back"}'
        WHERE job_id = $1 AND status = 'running'`,
      [jobId],
    );
    await client.query(
      `INSERT INTO ingest.runs (id, job_id, attempt, worker, timings) VALUES ($1, $2, $3, $4, $5)`,
      [runId, jobId, job.attempts, worker, JSON.stringify({ queueWaitMs: Math.round(job.waited_ms) })],
    );
    return { job, runId, attempt: job.attempts, queueWaitMs: Math.round(job.waited_ms) };
  });
}

// Asks for a job to stop. A queued job is cancelled at once; a running one is flagged, and its worker
// aborts the COPY (rolling it back) at its next progress check.
import type { Pool } from '../db/pool.js';
import type { JobRow } from './jobRows.js';

export async function requestCancel(pool: Pool, jobId: string): Promise<{ row: JobRow | undefined; changed: boolean }> {
  const { rows } = await pool.query<JobRow>(
    `UPDATE ingest.jobs
        SET cancel_requested = true, updated_at = clock_timestamp(),
            status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
            finished_at = CASE WHEN status = 'queued' THEN clock_timestamp() ELSE finished_at END,
            error = CASE WHEN status = 'queued'
                         THEN '{"code":"CANCELLED","message":"cancelled before it started"}'::jsonb ELSE error END
      WHERE id = $1 AND status IN ('queued', 'running')
      RETURNING *`,
    [jobId],
  );
  if (rows[0]) return { row: rows[0], changed: true };
  const current = await pool.query<JobRow>('SELECT * FROM ingest.jobs WHERE id = $1', [jobId]);
  return { row: current.rows[0], changed: false };
}

/** Marks a job cancelled once its worker has rolled the running load back. */
export async function markCancelled(pool: Pool, jobId: string): Promise<void> {
  await pool.query(
    `UPDATE ingest.jobs SET status = 'cancelled', finished_at = clock_timestamp(), updated_at = clock_timestamp()
      WHERE id = $1 AND status IN ('queued', 'running')`,
    [jobId],
  );
}

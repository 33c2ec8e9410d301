// Jobs PostgreSQL says are still to do; the reconciler makes sure each has a BullMQ job.
import type { Pool } from '../db/pool.js';

export async function unfinishedJobs(pool: Pool, queue: string, olderThanMs: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM ingest.jobs
      WHERE queue = $2 AND status IN ('queued', 'running') AND updated_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)
      ORDER BY created_at`,
    [olderThanMs, queue],
  );
  return rows.map((r) => r.id);
}

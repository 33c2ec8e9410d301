// The jobs a watch started (ingest.watch_jobs): which object or marker started each, and whether an
// event or a listing found it.
import type { Pool } from '../db/pool.js';

export interface WatchJob {
  jobId: string;
  objectUrl: string;
  foundBy: string;
  status: string;
  createdAt: string;
}

/** Records a job the watch started; a second record of the same job is a no-op. */
export async function recordWatchJob(pool: Pool, queue: string, watch: string, job: { jobId: string; objectUrl: string; foundBy: string }): Promise<void> {
  await pool.query(
    `INSERT INTO ingest.watch_jobs (queue, watch, job_id, object_url, found_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING`,
    [queue, watch, job.jobId, job.objectUrl, job.foundBy],
  );
}

/** The newest `limit` jobs the watch started, with their status now. */
export async function listWatchJobs(pool: Pool, queue: string, watch: string, limit: number): Promise<WatchJob[]> {
  const { rows } = await pool.query(
    `SELECT w.job_id, w.object_url, w.found_by, w.created_at, j.status
       FROM ingest.watch_jobs w JOIN ingest.jobs j ON j.id = w.job_id
      WHERE w.queue = $1 AND w.watch = $2
      ORDER BY w.created_at DESC LIMIT $3`,
    [queue, watch, limit],
  );
  return rows.map((r) => ({ jobId: r.job_id, objectUrl: r.object_url, foundBy: r.found_by, status: r.status, createdAt: r.created_at.toISOString() }));
}

/**
 * Which of these Idempotency-Keys a job holds already (a listing skips them without a submit each),
 * leaving out jobs that failed because their object was missing: the listing sees it now.
 */
export async function knownIdempotencyKeys(pool: Pool, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await pool.query<{ idempotency_key: string }>(
    `SELECT idempotency_key FROM ingest.jobs
      WHERE idempotency_key = ANY($1) AND NOT (status = 'failed' AND error->>'code' = 'SOURCE_NOT_FOUND')`,
    [keys],
  );
  return new Set(rows.map((r) => r.idempotency_key));
}

// The last run of each job on a page of the job list, in one query (the list shows its rows/s and
// duration). Mapped through runFromRow, so rows/s is computed exactly as the API computes it; the
// samples and shard layout, which the list does not show, are not read.
import type { Pool } from '../db/pool.js';
import { runFromRow, type Run, type RunRow } from './jobRows.js';

export async function lastRuns(pool: Pool, jobIds: string[]): Promise<Map<string, Run>> {
  if (jobIds.length === 0) return new Map();
  const { rows } = await pool.query<RunRow & { job_id: string }>(
    `SELECT DISTINCT ON (job_id) job_id, id, attempt, worker, status, started_at, finished_at, rows_loaded, rows_rejected,
            bytes_read, timings, error, NULL::jsonb AS shard_layout, '[]'::jsonb AS samples
       FROM ingest.runs WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, attempt DESC`,
    [jobIds],
  );
  return new Map(rows.map((r) => [r.job_id, runFromRow(r, [])]));
}

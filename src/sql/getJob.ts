// Reads one job with its runs and each run's first files: what GET /jobs/:id returns.
import type { Pool } from '../db/pool.js';
import { jobFromRow, runFromRow, type Job, type JobRow, type Run, type RunFile, type RunRow } from './jobRows.js';
import { runFileFromRow } from './listRunFiles.js';

export async function getJobRow(pool: Pool, id: string): Promise<JobRow | undefined> {
  const { rows } = await pool.query<JobRow>('SELECT * FROM ingest.jobs WHERE id = $1', [id]);
  return rows[0];
}

/** Files of each run shown inline in a job; the rest are paged through GET /jobs/:id/files. */
export const FILES_INLINE = 20;

export async function getJob(pool: Pool, id: string): Promise<(Job & { runs: Run[] }) | undefined> {
  const row = await getJobRow(pool, id);
  if (!row) return undefined;
  const runs = await pool.query<RunRow>('SELECT * FROM ingest.runs WHERE job_id = $1 ORDER BY attempt', [id]);
  // The first files of each run in the order they started, and how many the run has: a job over
  // thousands of objects stays a small document.
  const files = await pool.query<{ run_id: string; file_count: number } & Record<string, unknown>>(
    `SELECT * FROM (
       SELECT f.*, row_number() OVER (PARTITION BY run_id ORDER BY started_at, key) AS n,
              count(*) OVER (PARTITION BY run_id)::int AS file_count
         FROM ingest.run_files f WHERE job_id = $1) numbered
      WHERE n <= $2 ORDER BY started_at, key`,
    [id, FILES_INLINE],
  );
  const byRun = new Map<string, RunFile[]>();
  const counts = new Map<string, number>();
  for (const f of files.rows) {
    const list = byRun.get(f.run_id) ?? [];
    list.push(runFileFromRow(f));
    byRun.set(f.run_id, list);
    counts.set(f.run_id, f.file_count);
  }
  return { ...jobFromRow(row), runs: runs.rows.map((r) => runFromRow(r, byRun.get(r.id) ?? [], counts.get(r.id) ?? 0)) };
}

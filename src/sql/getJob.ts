// Reads one job with its runs and each run's files: what GET /jobs/:id returns.
import type { Pool } from '../db/pool.js';
import { jobFromRow, runFromRow, type Job, type JobRow, type Run, type RunFile, type RunRow } from './jobRows.js';

export async function getJobRow(pool: Pool, id: string): Promise<JobRow | undefined> {
  const { rows } = await pool.query<JobRow>('SELECT * FROM ingest.jobs WHERE id = $1', [id]);
  return rows[0];
}

export async function getJob(pool: Pool, id: string): Promise<(Job & { runs: Run[] }) | undefined> {
  const row = await getJobRow(pool, id);
  if (!row) return undefined;
  const runs = await pool.query<RunRow>('SELECT * FROM ingest.runs WHERE job_id = $1 ORDER BY attempt', [id]);
  const files = await pool.query<{ run_id: string } & Record<string, unknown>>(
    'SELECT * FROM ingest.run_files WHERE job_id = $1 ORDER BY started_at, key',
    [id],
  );
  const byRun = new Map<string, RunFile[]>();
  for (const f of files.rows) {
    const list = byRun.get(f.run_id) ?? [];
    list.push({
      bucket: f.bucket as string,
      key: f.key as string,
      etag: f.etag as string,
      size: f.size as number,
      status: f.status as RunFile['status'],
      rowsLoaded: f.rows_loaded as number,
      rowsRejected: f.rows_rejected as number,
      blankLines: f.blank_lines as number,
      bytesRead: f.bytes_read as number,
      loadedByRun: (f.loaded_by_run as string | null) ?? null,
      timings: f.timings as RunFile['timings'],
      error: (f.error as RunFile['error']) ?? null,
      ...(f.merge ? { merge: f.merge as NonNullable<RunFile['merge']> } : {}),
    });
    byRun.set(f.run_id, list);
  }
  return { ...jobFromRow(row), runs: runs.rows.map((r) => runFromRow(r, byRun.get(r.id) ?? [])) };
}

// Lists jobs newest first with keyset pagination: the cursor is the last row's (created_at, id).
import type { Pool } from '../db/pool.js';
import { jobFromRow, type Job, type JobRow, type JobStatus } from './jobRows.js';

export interface ListJobsOptions {
  status?: JobStatus;
  schedule?: string;
  limit: number;
  cursor?: { createdAt: string; id: string };
}

export async function listJobs(pool: Pool, opts: ListJobsOptions): Promise<{ jobs: Job[]; next?: { createdAt: string; id: string } }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (opts.status) {
    params.push(opts.status);
    where.push(`status = $${params.length}`);
  }
  if (opts.schedule) {
    params.push(opts.schedule);
    where.push(`schedule = $${params.length}`);
  }
  if (opts.cursor) {
    params.push(opts.cursor.createdAt, opts.cursor.id);
    where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(opts.limit + 1);
  const { rows } = await pool.query<JobRow>(
    `SELECT * FROM ingest.jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, opts.limit);
  const last = page[page.length - 1];
  return {
    jobs: page.map(jobFromRow),
    ...(rows.length > opts.limit && last ? { next: { createdAt: last.created_at.toISOString(), id: last.id } } : {}),
  };
}

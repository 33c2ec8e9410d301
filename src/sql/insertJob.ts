// Stores a new job, or returns the job already stored under the same Idempotency-Key in the same queue
// (a key is scoped by the queue the job is submitted to: migrations/0060_idempotency_scope.sql).
import type { Pool } from '../db/pool.js';
import type { JobSpec } from '../jobs/spec.js';
import type { JobRow } from './jobRows.js';

export interface NewJob {
  id: string;
  spec: JobSpec;
  target: string;
  sourceUrl: string;
  queue: string;
  specHash: string;
  idempotencyKey?: string;
  /** The schedule that fired it, if any. */
  schedule?: string;
}

/** `created` is false when the key was used before; the caller compares spec hashes. */
export async function insertJob(pool: Pool, job: NewJob): Promise<{ row: JobRow; created: boolean }> {
  const inserted = await pool.query<JobRow>(
    `INSERT INTO ingest.jobs (id, spec, target, source_url, queue, spec_hash, idempotency_key, schedule)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING *`,
    [job.id, JSON.stringify(job.spec), job.target, job.sourceUrl, job.queue, job.specHash, job.idempotencyKey ?? null, job.schedule ?? null],
  );
  if (inserted.rows[0]) return { row: inserted.rows[0], created: true };
  const existing = await pool.query<JobRow>('SELECT * FROM ingest.jobs WHERE queue = $1 AND idempotency_key = $2', [job.queue, job.idempotencyKey]);
  return { row: existing.rows[0]!, created: false };
}

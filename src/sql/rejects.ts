// Rejected records (ingest.rejects): written as they are found, on their own connection, so a file
// that rolls back over its error budget still shows why.
import type { Pool } from '../db/pool.js';
import type { Reject } from '../sink/reject.js';
import { sourceUrl } from '../sources/registry.js';
import type { ObjectRef } from '../sources/source.js';
import { storableText } from './storable.js';

export interface RejectRow extends Reject {
  id: string;
  runId: string;
  url: string;
}

export async function insertReject(pool: Pool, jobId: string, runId: string, object: ObjectRef, r: Reject): Promise<void> {
  await insertRejects(pool, jobId, runId, object, [r]);
}

/** Several rejects in one statement, their ids in the order given. */
export async function insertRejects(pool: Pool, jobId: string, runId: string, object: ObjectRef, list: Reject[]): Promise<void> {
  if (list.length === 0) return;
  await pool.query(
    `INSERT INTO ingest.rejects (job_id, run_id, scheme, container, key, line, byte_offset, column_name, sqlstate, message, record, position)
     SELECT $1, $2, $3, $4, $5, u.line, u.byte_offset, u.column_name, u.sqlstate, u.message, u.record, u.position
       FROM unnest($6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::jsonb[])
            WITH ORDINALITY AS u(line, byte_offset, column_name, sqlstate, message, record, position, n)
      ORDER BY u.n`,
    [
      jobId, runId, object.scheme, object.container, object.key,
      list.map((r) => r.line), list.map((r) => r.byteOffset), list.map((r) => (r.column === null ? null : storableText(r.column))), list.map((r) => r.sqlstate),
      list.map((r) => storableText(r.message)), list.map((r) => storableText(r.record)), list.map((r) => (r.position ? JSON.stringify(r.position) : null)),
    ],
  );
}

export async function listRejects(
  pool: Pool,
  jobId: string,
  opts: { limit: number; after?: string; runId?: string },
): Promise<{ rejects: RejectRow[]; total: number; next: string | null }> {
  const params: unknown[] = [jobId];
  let where = 'job_id = $1';
  if (opts.runId) {
    params.push(opts.runId);
    where += ` AND run_id = $${params.length}`;
  }
  const total = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ingest.rejects WHERE ${where}`, params);
  if (opts.after) {
    params.push(opts.after);
    where += ` AND id > $${params.length}`;
  }
  params.push(opts.limit + 1);
  const { rows } = await pool.query(
    `SELECT * FROM ingest.rejects WHERE ${where} ORDER BY id LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, opts.limit);
  return {
    total: total.rows[0]!.n,
    next: rows.length > opts.limit ? String(page[page.length - 1].id) : null,
    rejects: page.map((r) => ({
      id: String(r.id),
      runId: r.run_id,
      url: sourceUrl({ scheme: r.scheme, container: r.container, key: r.key }),
      line: r.line,
      byteOffset: r.byte_offset,
      column: r.column_name,
      sqlstate: r.sqlstate,
      message: r.message,
      record: r.record,
      ...(r.position ? { position: r.position } : {}),
    })),
  };
}

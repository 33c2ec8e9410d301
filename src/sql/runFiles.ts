// Records what a run did with one source object (ingest.run_files).
import type { Pool, PoolClient } from '../db/pool.js';
import type { ErrorBody } from '../errors.js';
import type { RunFile, Timings } from './jobRows.js';
import { storableJson } from './storable.js';
import { traceRunFile } from '../telemetry/runSpans.js';

export interface RunFileRecord {
  runId: string;
  jobId: string;
  /** The object (sources/source.ts: ObjectInfo's identity). */
  object: { scheme: string; container: string; key: string; version: string; size: number };
  status: RunFile['status'];
  rowsLoaded: number;
  rowsRejected?: number;
  blankLines?: number;
  bytesRead: number;
  loadedByRun?: string;
  timings: Timings;
  error?: ErrorBody;
  /** mode "merge": the file's counts (inserted, updated, deleted, deleteMissing, rejected). */
  merge?: object;
}

export async function recordRunFile(db: Pool | PoolClient, f: RunFileRecord): Promise<void> {
  await db.query(
    `INSERT INTO ingest.run_files (run_id, job_id, container, key, version, size, status, rows_loaded, bytes_read,
                                   loaded_by_run, timings, error, rows_rejected, blank_lines, merge, scheme, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
             CASE WHEN $7 = 'running' THEN NULL ELSE clock_timestamp() END)
     ON CONFLICT (run_id, scheme, container, key) DO UPDATE
        SET status = excluded.status, rows_loaded = excluded.rows_loaded, bytes_read = excluded.bytes_read,
            loaded_by_run = excluded.loaded_by_run, timings = excluded.timings, error = excluded.error,
            rows_rejected = excluded.rows_rejected, blank_lines = excluded.blank_lines, merge = excluded.merge,
            finished_at = excluded.finished_at`,
    [
      f.runId, f.jobId, f.object.container, f.object.key, f.object.version, f.object.size, f.status, f.rowsLoaded, f.bytesRead,
      f.loadedByRun ?? null, JSON.stringify(f.timings), f.error ? storableJson(f.error) : null,
      f.rowsRejected ?? 0, f.blankLines ?? 0, f.merge ? storableJson(f.merge) : null, f.object.scheme,
    ],
  );
  // The file's span, under the run's (telemetry/runSpans.ts): built where its result is recorded.
  traceRunFile(f);
}

/**
 * Records a listed page's files that the ledger already holds as skipped, in one statement (a re-run
 * over a prefix of thousands of loaded objects writes a statement a page, not one a file).
 */
export async function recordSkippedFiles(
  db: Pool | PoolClient,
  ids: { runId: string; jobId: string },
  files: ReadonlyArray<{ object: RunFileRecord['object']; loadedByRun: string }>,
): Promise<void> {
  if (files.length === 0) return;
  await db.query(
    `INSERT INTO ingest.run_files (run_id, job_id, scheme, container, key, version, size, status, loaded_by_run, finished_at)
     SELECT $1, $2, f.scheme, f.container, f.key, f.version, f.size, 'skipped', f.loaded_by_run, clock_timestamp()
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::uuid[]) AS f(scheme, container, key, version, size, loaded_by_run)
     ON CONFLICT (run_id, scheme, container, key) DO NOTHING`,
    [
      ids.runId, ids.jobId,
      files.map((f) => f.object.scheme), files.map((f) => f.object.container), files.map((f) => f.object.key),
      files.map((f) => f.object.version), files.map((f) => f.object.size), files.map((f) => f.loadedByRun),
    ],
  );
}

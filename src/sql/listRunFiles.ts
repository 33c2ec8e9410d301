// Pages through a job's files (ingest.run_files) in (run attempt, key) order: GET /jobs/:id/files.
// A job over many objects keeps only the first few files per run inline in GET /jobs/:id.
import type { Pool } from '../db/pool.js';
import { sourceUrl } from '../sources/registry.js';
import type { FilesCursor } from '../api/cursor.js';
import type { RunFile } from './jobRows.js';

export interface RunFileEntry extends RunFile {
  /** The run (attempt) that recorded the file. */
  attempt: number;
}

export function runFileFromRow(f: Record<string, unknown>): RunFile {
  return {
    url: sourceUrl({ scheme: f.scheme as string, container: f.container as string, key: f.key as string }),
    scheme: f.scheme as string,
    container: f.container as string,
    key: f.key as string,
    version: f.version as string,
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
  };
}

export async function listRunFiles(
  pool: Pool,
  jobId: string,
  opts: { limit: number; after?: FilesCursor; attempt?: number; status?: RunFile['status'] },
): Promise<{ files: RunFileEntry[]; next: FilesCursor | undefined }> {
  const { rows } = await pool.query(
    `SELECT f.*, r.attempt FROM ingest.run_files f JOIN ingest.runs r ON r.id = f.run_id
      WHERE f.job_id = $1
        AND ($2::int IS NULL OR (r.attempt, f.key) > ($2::int, $3::text))
        AND ($4::int IS NULL OR r.attempt = $4::int)
        AND ($5::text IS NULL OR f.status = $5::text)
      ORDER BY r.attempt, f.key
      LIMIT $6`,
    [jobId, opts.after?.attempt ?? null, opts.after?.key ?? null, opts.attempt ?? null, opts.status ?? null, opts.limit + 1],
  );
  const page = rows.slice(0, opts.limit).map((f) => ({ attempt: f.attempt as number, ...runFileFromRow(f) }));
  const last = page[page.length - 1];
  return { files: page, next: rows.length > opts.limit && last ? { attempt: last.attempt, key: last.key } : undefined };
}

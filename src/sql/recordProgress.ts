// Writes a running load's progress to its job row and reports whether a cancel was requested.
import type { Pool } from '../db/pool.js';

export interface Progress {
  bytesRead: number;
  bytesTotal: number | null;
  rowsLoaded: number;
}

export async function recordProgress(pool: Pool, jobId: string, p: Progress): Promise<{ cancelRequested: boolean }> {
  const { rows } = await pool.query<{ cancel_requested: boolean }>(
    `UPDATE ingest.jobs SET bytes_read = $2, bytes_total = $3, rows_loaded = $4, updated_at = clock_timestamp()
      WHERE id = $1 AND status = 'running' RETURNING cancel_requested`,
    [jobId, p.bytesRead, p.bytesTotal, p.rowsLoaded],
  );
  // No row: the job is no longer running here (finished, or taken over); nothing to cancel.
  return { cancelRequested: rows[0]?.cancel_requested ?? false };
}

// Writes a running load's progress to its job row, appends a sample to its run (for the throughput
// chart), and reports whether a cancel was requested.
import type { Pool } from '../db/pool.js';

export interface Progress {
  bytesRead: number;
  /** The bytes of every object to load; null until the listing is complete. */
  bytesTotal: number | null;
  rowsLoaded: number;
  /** How far the run's listing is: objects listed so far, and whether that is all; null before it starts. */
  listing?: ListingProgress | null;
}

export interface ListingProgress {
  complete: boolean;
  objects: number;
}

/** Samples kept per run: at the default 500 ms tick, the first 16 minutes and 40 seconds. */
export const MAX_SAMPLES = 2000;

/**
 * One statement: the job's row is updated, and only then (the sample reads the job's result) its run's,
 * the order every transaction that writes both takes (finishRun.ts). WITH's sub-statements otherwise run
 * in no promised order.
 */
export async function recordProgress(pool: Pool, jobId: string, runId: string, elapsedMs: number, p: Progress): Promise<{ cancelRequested: boolean }> {
  const { rows } = await pool.query<{ cancel_requested: boolean }>(
    `WITH job AS (
       UPDATE ingest.jobs SET bytes_read = $2, bytes_total = $3, rows_loaded = $4, updated_at = clock_timestamp(),
                              objects_listed = $7, listing_complete = $8
        WHERE id = $1 AND status = 'running' RETURNING cancel_requested
     ), sample AS (
       UPDATE ingest.runs SET samples = samples || jsonb_build_array(jsonb_build_array($6::int, $4::bigint, $2::bigint))
        WHERE id = $5 AND status = 'running' AND jsonb_array_length(samples) < ${MAX_SAMPLES} AND EXISTS (SELECT FROM job)
     )
     SELECT cancel_requested FROM job`,
    [jobId, p.bytesRead, p.bytesTotal, p.rowsLoaded, runId, Math.round(elapsedMs), p.listing?.objects ?? null, p.listing?.complete ?? null],
  );
  // No row: the job is no longer running here (finished, or taken over); nothing to cancel.
  return { cancelRequested: rows[0]?.cancel_requested ?? false };
}

// The file ledger. claimLedgerEntry runs inside the load's own transaction, before the COPY: the insert
// takes the (target, bucket, key, etag, size) key, so a second worker loading the same object waits on
// it and, once the first commits, finds the row and skips. A rollback releases the key with the data.
import type { PoolClient } from '../db/pool.js';

export interface LedgerKey {
  target: string;
  bucket: string;
  key: string;
  etag: string;
  size: number;
}

export interface LedgerEntry extends LedgerKey {
  jobId: string;
  runId: string;
  rowsLoaded: number;
  loadedAt: string;
}

/** Returns undefined when this transaction now owns the entry, or the entry that already exists. */
export async function claimLedgerEntry(client: PoolClient, k: LedgerKey, jobId: string, runId: string): Promise<LedgerEntry | undefined> {
  const ins = await client.query(
    `INSERT INTO ingest.file_ledger (target, bucket, key, etag, size, job_id, run_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1`,
    [k.target, k.bucket, k.key, k.etag, k.size, jobId, runId],
  );
  if (ins.rowCount === 1) return undefined;
  const { rows } = await client.query<{ job_id: string; run_id: string; rows_loaded: number; loaded_at: Date }>(
    `SELECT job_id, run_id, rows_loaded, loaded_at FROM ingest.file_ledger
      WHERE target = $1 AND bucket = $2 AND key = $3 AND etag = $4 AND size = $5`,
    [k.target, k.bucket, k.key, k.etag, k.size],
  );
  const r = rows[0]!;
  return { ...k, jobId: r.job_id, runId: r.run_id, rowsLoaded: r.rows_loaded, loadedAt: r.loaded_at.toISOString() };
}

export async function completeLedgerEntry(client: PoolClient, k: LedgerKey, rowsLoaded: number): Promise<void> {
  await client.query(
    `UPDATE ingest.file_ledger SET rows_loaded = $6, loaded_at = clock_timestamp()
      WHERE target = $1 AND bucket = $2 AND key = $3 AND etag = $4 AND size = $5`,
    [k.target, k.bucket, k.key, k.etag, k.size, rowsLoaded],
  );
}

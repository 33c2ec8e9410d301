// The file ledger. claimLedgerEntry runs inside the load's own transaction, before the COPY: the insert
// takes the (target, scheme, container, key, version, size) key, so a second worker loading the same object waits on
// it and, once the first commits, finds the row and skips. A rollback releases the key with the data.
// Each entry also records the target table's OID: an entry written for another table of the same name
// (dropped and created again) does not count as loaded, and the next load takes it over. Entries from
// before the OID was kept (NULL) count by name alone. A claim also names the node its transaction
// entered Citus at (sink/entryNodeTag.ts); the OID is always the coordinator's, carried as data.
// On Citus the ledgers are Citus tables (migration 0080), where an UPDATE may not call a volatile
// function: times come from the column default or statement_timestamp(), not clock_timestamp().
import type { Pool, PoolClient } from '../db/pool.js';
import { entryNodeOf } from '../sink/entryNodeTag.js';

/** A target and an object's identity (sources/source.ts: ObjectInfo). */
export interface LedgerKey {
  target: string;
  scheme: string;
  container: string;
  key: string;
  version: string;
  size: number;
  /** The OID of the table the target names now (the ledger's identity for it). */
  targetOid: number;
}

// An existing entry is stale when it was written for another table than the one the name resolves to now.
const stale = 'l.target_oid IS NOT NULL AND l.target_oid <> excluded.target_oid';
// An entry counts for the current table when it was written for it, or before OIDs were kept.
const current = (param: string, alias = '') => `(${alias}target_oid IS NULL OR ${alias}target_oid = ${param}::oid)`;

export interface LedgerEntry extends LedgerKey {
  jobId: string;
  runId: string;
  rowsLoaded: number;
  loadedAt: string;
}

/**
 * Returns undefined when this transaction now owns the entry, or the entry that already exists. With
 * `reload`, an entry left by another job is taken over (the object loads again); one this same job
 * wrote (an earlier attempt that committed) still counts as done.
 */
export async function claimLedgerEntry(client: PoolClient, k: LedgerKey, jobId: string, runId: string, reload = false): Promise<LedgerEntry | undefined> {
  const ins = await client.query(
    `INSERT INTO ingest.file_ledger AS l (target, scheme, container, key, version, size, job_id, run_id, target_oid, entry_node)
     VALUES ($1, $9, $2, $3, $4, $5, $6, $7, $8::oid, $10)
     ON CONFLICT (target, scheme, container, key, version, size) DO UPDATE
       SET job_id = excluded.job_id, run_id = excluded.run_id, target_oid = excluded.target_oid, entry_node = excluded.entry_node,
           rows_loaded = 0, loaded_at = excluded.loaded_at
       WHERE ${stale}${reload ? ' OR l.job_id <> excluded.job_id' : ''}
     RETURNING 1`,
    [k.target, k.container, k.key, k.version, k.size, jobId, runId, k.targetOid, k.scheme, entryNodeOf(client)],
  );
  if (ins.rowCount === 1) return undefined;
  return { ...k, ...(await ledgerEntry(client, k))! };
}

export async function completeLedgerEntry(client: PoolClient, k: LedgerKey, rowsLoaded: number): Promise<void> {
  await client.query(
    `UPDATE ingest.file_ledger SET rows_loaded = $6, loaded_at = statement_timestamp()
      WHERE target = $1 AND container = $2 AND key = $3 AND version = $4 AND size = $5 AND scheme = $7`,
    [k.target, k.container, k.key, k.version, k.size, rowsLoaded, k.scheme],
  );
}

export interface ChunkKey extends LedgerKey {
  byteStart: number;
  byteEnd: number;
}

/** The chunks of an object already in the chunk ledger for the target table: byteStart -> entry. */
export async function loadedChunks(
  db: Pool | PoolClient,
  k: LedgerKey,
): Promise<Map<number, { byteEnd: number; rowsLoaded: number; jobId: string; runId: string }>> {
  const { rows } = await db.query<{ byte_start: number; byte_end: number; rows_loaded: number; job_id: string; run_id: string }>(
    `SELECT byte_start, byte_end, rows_loaded, job_id, run_id FROM ingest.chunk_ledger
      WHERE target = $1 AND container = $2 AND key = $3 AND version = $4 AND size = $5 AND ${current('$6')} AND scheme = $7`,
    [k.target, k.container, k.key, k.version, k.size, k.targetOid, k.scheme],
  );
  return new Map(rows.map((r) => [r.byte_start, { byteEnd: r.byte_end, rowsLoaded: r.rows_loaded, jobId: r.job_id, runId: r.run_id }]));
}

/** Claims a chunk inside its load's transaction; false when it is already loaded (by a twin, or earlier). */
export async function claimChunk(client: PoolClient, k: ChunkKey, jobId: string, runId: string, reload: boolean): Promise<boolean> {
  const res = await client.query(
    `INSERT INTO ingest.chunk_ledger AS l (target, scheme, container, key, version, size, byte_start, byte_end, job_id, run_id, target_oid, entry_node)
     VALUES ($1, $11, $2, $3, $4, $5, $6, $7, $8, $9, $10::oid, $12)
     ON CONFLICT (target, scheme, container, key, version, size, byte_start) DO UPDATE
       SET job_id = excluded.job_id, run_id = excluded.run_id, byte_end = excluded.byte_end, target_oid = excluded.target_oid,
           entry_node = excluded.entry_node, rows_loaded = 0, loaded_at = excluded.loaded_at
       WHERE ${stale}${reload ? ' OR l.job_id <> excluded.job_id' : ''}
     RETURNING 1`,
    [k.target, k.container, k.key, k.version, k.size, k.byteStart, k.byteEnd, jobId, runId, k.targetOid, k.scheme, entryNodeOf(client)],
  );
  return res.rowCount === 1;
}

export async function completeChunk(client: PoolClient, k: ChunkKey, rowsLoaded: number): Promise<void> {
  await client.query(
    `UPDATE ingest.chunk_ledger SET rows_loaded = $7, loaded_at = statement_timestamp()
      WHERE target = $1 AND container = $2 AND key = $3 AND version = $4 AND size = $5 AND byte_start = $6 AND scheme = $8`,
    [k.target, k.container, k.key, k.version, k.size, k.byteStart, rowsLoaded, k.scheme],
  );
}

/** The ledger entry for an object and target table, read outside any load transaction. */
export async function ledgerEntry(db: Pool | PoolClient, k: LedgerKey): Promise<{ runId: string; jobId: string; loadedAt: string; rowsLoaded: number } | undefined> {
  const { rows } = await db.query<{ job_id: string; run_id: string; rows_loaded: number; loaded_at: Date }>(
    `SELECT job_id, run_id, rows_loaded, loaded_at FROM ingest.file_ledger
      WHERE target = $1 AND container = $2 AND key = $3 AND version = $4 AND size = $5 AND ${current('$6')} AND scheme = $7`,
    [k.target, k.container, k.key, k.version, k.size, k.targetOid, k.scheme],
  );
  const r = rows[0];
  return r ? { runId: r.run_id, jobId: r.job_id, loadedAt: r.loaded_at.toISOString(), rowsLoaded: r.rows_loaded } : undefined;
}

/** The key ledgerEntries' map uses for an object. */
export function objectKey(o: { scheme: string; container: string; key: string }): string {
  return `${o.scheme}://${o.container}/${o.key}`;
}

/**
 * Ledger entries of many objects for one target, in one query: objectKey(object) -> entry (same version
 * and size only). `targetOid`: the table the target names now; undefined (no such table) matches only
 * entries from before OIDs were kept.
 */
export async function ledgerEntries(
  db: Pool | PoolClient,
  target: string,
  targetOid: number | undefined,
  objects: ReadonlyArray<{ scheme: string; container: string; key: string; version: string; size: number }>,
): Promise<Map<string, { runId: string; jobId: string; loadedAt: string; rowsLoaded: number }>> {
  if (objects.length === 0) return new Map();
  const { rows } = await db.query<{ scheme: string; container: string; key: string; job_id: string; run_id: string; rows_loaded: number; loaded_at: Date }>(
    `SELECT l.scheme, l.container, l.key, l.job_id, l.run_id, l.rows_loaded, l.loaded_at
       FROM ingest.file_ledger l
       JOIN unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $7::text[]) AS o(container, key, version, size, scheme)
         ON l.scheme = o.scheme AND l.container = o.container AND l.key = o.key AND l.version = o.version AND l.size = o.size
      WHERE l.target = $1 AND ${current('$6', 'l.')}`,
    [target, objects.map((o) => o.container), objects.map((o) => o.key), objects.map((o) => o.version), objects.map((o) => o.size), targetOid ?? null, objects.map((o) => o.scheme)],
  );
  return new Map(rows.map((r) => [objectKey(r), { runId: r.run_id, jobId: r.job_id, loadedAt: r.loaded_at.toISOString(), rowsLoaded: r.rows_loaded }]));
}

/**
 * Forgets every object and chunk the ledgers hold for a target (its rows are gone: replaced, or the
 * table dropped), so the same objects load into it again. Returns the file entries removed.
 */
export async function forgetTarget(db: Pool | PoolClient, target: string): Promise<number> {
  const files = await db.query('DELETE FROM ingest.file_ledger WHERE target = $1', [target]);
  await db.query('DELETE FROM ingest.chunk_ledger WHERE target = $1', [target]);
  return files.rowCount ?? 0;
}

// What Citus knows about a table: whether the extension is there, how a table is distributed, and how
// its shards are laid out over the nodes. Everything here reads Citus's own metadata tables and views.
// Also the session settings a load runs its COPYs with.
import type { Pool, PoolClient } from '../db/pool.js';
import { specDefaults, type JobSpec } from '../jobs/spec.js';

type Db = Pool | PoolClient;

/** The installed Citus version, or undefined on plain PostgreSQL. */
export async function citusVersion(db: Db): Promise<string | undefined> {
  const { rows } = await db.query<{ v: string }>(`SELECT extversion AS v FROM pg_catalog.pg_extension WHERE extname = 'citus'`);
  return rows[0]?.v;
}

export type CitusTableType = 'distributed' | 'reference' | 'local';

export interface TableFacts {
  table: string;
  /** distributed, reference, or local (plain PostgreSQL, or a Citus-managed local table). */
  type: CitusTableType;
  citus: boolean;
  distributionColumn: string | null;
  shardCount: number;
  colocationId: number | null;
  sizeBytes: number;
  nodes: NodeShare[];
}

export interface NodeShare {
  node: string;
  shards: number;
  bytes: number;
}

export interface ShardLayout {
  type: CitusTableType;
  distributionColumn: string | null;
  shardCount: number;
  colocationId: number | null;
  nodes: NodeShare[];
  largestShardBytes: number;
  smallestShardBytes: number;
  /** Largest shard over smallest shard (1 = perfectly even); null when a shard is empty. */
  skew: number | null;
}

interface CitusRow {
  citus_table_type: string;
  distribution_column: string;
  colocation_id: number;
  shard_count: number;
}

/**
 * A table's row of Citus's metadata, typed as the citus_tables view types it. Read from the catalog
 * directly: the view also sums the size of every distributed table in the cluster, a call to every
 * worker (27 ms on the local cluster, and growing with the number of tables and shards).
 */
async function citusRow(db: Db, oid: number): Promise<CitusRow | undefined> {
  const { rows } = await db.query<CitusRow>(
    `SELECT CASE WHEN p.partkey IS NOT NULL THEN 'distributed'
                 WHEN p.repmodel = 't' THEN 'reference'
                 WHEN p.colocationid = 0 THEN 'local'
                 ELSE 'single-shard' END AS citus_table_type,
            column_to_column_name(p.logicalrelid, p.partkey) AS distribution_column,
            p.colocationid AS colocation_id,
            (SELECT count(*)::int FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) AS shard_count
       FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1::oid::regclass`,
    [oid],
  );
  return rows[0];
}

async function nodeShares(db: Db, oid: number): Promise<{ nodes: NodeShare[]; largest: number; smallest: number }> {
  const { rows } = await db.query<{ node: string; shards: number; bytes: number; largest: number; smallest: number }>(
    `SELECT nodename || ':' || nodeport AS node, count(*)::int AS shards, sum(shard_size)::bigint AS bytes,
            max(shard_size)::bigint AS largest, min(shard_size)::bigint AS smallest
       FROM pg_catalog.citus_shards WHERE table_name = $1::oid::regclass
      GROUP BY nodename, nodeport ORDER BY nodename, nodeport`,
    [oid],
  );
  return {
    nodes: rows.map((r) => ({ node: r.node, shards: r.shards, bytes: Number(r.bytes) })),
    largest: Math.max(0, ...rows.map((r) => Number(r.largest))),
    smallest: rows.length ? Math.min(...rows.map((r) => Number(r.smallest))) : 0,
  };
}

function tableType(row: CitusRow | undefined): CitusTableType {
  if (!row) return 'local';
  if (row.citus_table_type === 'distributed' || row.citus_table_type === 'reference') return row.citus_table_type;
  return 'local';
}

/** The shard layout of a table after a load; undefined on plain PostgreSQL. */
export async function shardLayout(db: Db, oid: number): Promise<ShardLayout | undefined> {
  if (!(await citusVersion(db))) return undefined;
  const row = await citusRow(db, oid);
  const shares = row ? await nodeShares(db, oid) : { nodes: [], largest: 0, smallest: 0 };
  return {
    type: tableType(row),
    distributionColumn: row && row.citus_table_type === 'distributed' ? row.distribution_column : null,
    shardCount: row?.shard_count ?? 0,
    colocationId: row?.colocation_id ?? null,
    nodes: shares.nodes,
    largestShardBytes: shares.largest,
    smallestShardBytes: shares.smallest,
    skew: shares.smallest > 0 ? Math.round((shares.largest / shares.smallest) * 1000) / 1000 : null,
  };
}

/** Facts about a table for GET /tables/:name. */
export async function tableFacts(db: Db, oid: number, table: string): Promise<TableFacts> {
  const citus = (await citusVersion(db)) !== undefined;
  if (citus) {
    const row = await citusRow(db, oid);
    if (row) {
      const shares = await nodeShares(db, oid);
      return {
        table,
        type: tableType(row),
        citus: true,
        distributionColumn: row.citus_table_type === 'distributed' ? row.distribution_column : null,
        shardCount: row.shard_count,
        colocationId: row.colocation_id,
        sizeBytes: shares.nodes.reduce((a, n) => a + n.bytes, 0),
        nodes: shares.nodes,
      };
    }
  }
  const size = await db.query<{ b: number }>('SELECT pg_total_relation_size($1::oid)::bigint AS b', [oid]);
  const bytes = Number(size.rows[0]?.b ?? 0);
  return { table, type: 'local', citus, distributionColumn: null, shardCount: 0, colocationId: null, sizeBytes: bytes, nodes: [{ node: 'local', shards: 0, bytes }] };
}

/** How an existing table is distributed, for matching against a job's spec. */
export async function distributionOf(db: Db, oid: number): Promise<{ type: CitusTableType; column: string | null }> {
  const row = await citusRow(db, oid);
  return { type: tableType(row), column: row && row.citus_table_type === 'distributed' ? row.distribution_column : null };
}

/** Connections per worker a load's COPY opens when the job does not say (specDefaults says why 4). */
export const DEFAULT_CONNECTIONS_PER_WORKER = specDefaults.target.connectionsPerWorker;

export function connectionsPerWorker(spec: JobSpec): number {
  return spec.target.connectionsPerWorker ?? DEFAULT_CONNECTIONS_PER_WORKER;
}

/**
 * Opens a load's transaction, its COPYs limited to the job's connections per worker. The setting is
 * local to the transaction; on PostgreSQL without Citus it is an unused placeholder.
 */
export async function beginLoad(client: PoolClient, spec: JobSpec): Promise<void> {
  await client.query(`BEGIN; SET LOCAL citus.max_adaptive_executor_pool_size = ${connectionsPerWorker(spec)}`);
}

/** Most worker connections a load session keeps open between transactions, per worker. */
export const MAX_KEPT_WORKER_CONNECTIONS = 32;

/**
 * A COPY into a distributed table opens a connection per shard placement, and Citus keeps only one
 * per worker once the transaction ends (citus.max_cached_conns_per_worker), so every file or chunk
 * loaded on a session would open the rest again: a new backend per placement, with cold caches. This
 * keeps as many per worker as the COPY opens there (the table's placements on its busiest worker, or
 * `perWorker` when fewer; at most MAX_KEPT_WORKER_CONNECTIONS) for this session. The returned function
 * restores the default; call it before the client goes back to the pool (the extra connections close at
 * the session's next transaction end). Nothing happens for a table Citus does not distribute.
 */
export async function keepWorkerConnections(db: PoolClient, table: string, perWorker: number): Promise<() => Promise<void>> {
  const none = async (): Promise<void> => {};
  if (!(await citusVersion(db))) return none;
  const { rows } = await db.query<{ n: number | null }>(
    `SELECT max(n)::int AS n FROM (
       SELECT count(*) AS n FROM pg_catalog.pg_dist_shard s JOIN pg_catalog.pg_dist_placement p USING (shardid)
        WHERE s.logicalrelid = to_regclass($1) GROUP BY p.groupid) per_worker`,
    [table],
  );
  const n = Math.min(rows[0]?.n ?? 0, perWorker, MAX_KEPT_WORKER_CONNECTIONS);
  if (n <= 1) return none;
  await db.query(`SET citus.max_cached_conns_per_worker = ${n}`);
  return async () => {
    await db.query('RESET citus.max_cached_conns_per_worker');
  };
}

// Citus's background shard rebalancer, as a job follows it: the moves planned for a table, starting
// the rebalance (citus_rebalance_start), its state and task counts (citus_rebalance_status), stopping it
// (citus_rebalance_stop), and where each shard placement is, to tell the bytes that moved.
import type { Pool, PoolClient } from '../db/pool.js';
import type { TableOperation } from '../jobs/spec.js';

type Db = Pool | PoolClient;

export type Strategy = NonNullable<TableOperation['strategy']>;

/** Shard moves Citus plans for the table's colocation group. */
export async function plannedMoves(db: Db, table: string, strategy: Strategy, drainOnly: boolean): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM get_rebalance_table_shards_plan($1::regclass, drain_only => $2, rebalance_strategy => $3)',
    [table, drainOnly, strategy],
  );
  return rows[0]!.n;
}

/**
 * Starts the background rebalance; returns its Citus job id, or undefined when there is nothing to move.
 * Shard moves use logical replication (writes go on while a shard moves) where wal_level is logical, and
 * block writes to the moving shard otherwise ('auto').
 */
export async function startRebalance(db: Db, strategy: Strategy, drainOnly: boolean): Promise<number | undefined> {
  const { rows } = await db.query<{ id: number | null }>(
    'SELECT citus_rebalance_start(rebalance_strategy => $1, drain_only => $2) AS id',
    [strategy, drainOnly],
  );
  return rows[0]?.id ?? undefined;
}

export interface RebalanceStatus {
  /** scheduled, running, cancelling, cancelled, finishing, finished, failing, failed. */
  state: string;
  /** Tasks (shard moves) by state: done, running, runnable, blocked, error... */
  counts: Record<string, number>;
  /** The first task error Citus reports, if any. */
  message: string | undefined;
}

export async function rebalanceStatus(db: Db, citusJobId: number): Promise<RebalanceStatus | undefined> {
  const { rows } = await db.query<{ state: string; details: { task_state_counts?: Record<string, number>; tasks?: Array<{ message?: string }> } | null }>(
    'SELECT state::text AS state, details FROM citus_rebalance_status() WHERE job_id = $1',
    [citusJobId],
  );
  const r = rows[0];
  if (!r) return undefined;
  const message = (r.details?.tasks ?? []).map((t) => t.message).find((m) => m);
  return { state: r.state, counts: r.details?.task_state_counts ?? {}, message };
}

export const finishedStates = new Set(['finished', 'cancelled', 'failed']);

export async function stopRebalance(db: Db): Promise<void> {
  await db.query('SELECT citus_rebalance_stop()');
}

/** Each shard of the table's colocation group: its node and size. */
export async function placements(db: Db, table: string): Promise<Map<string, { node: string; bytes: number }>> {
  const { rows } = await db.query<{ shardid: string; node: string; bytes: number }>(
    `SELECT s.shardid::text AS shardid, s.nodename || ':' || s.nodeport AS node, s.shard_size::bigint AS bytes
       FROM citus_shards s
      WHERE s.colocation_id = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = $1::regclass)`,
    [table],
  );
  return new Map(rows.map((r) => [`${r.shardid}@${r.node}`, { node: r.node, bytes: Number(r.bytes) }]));
}

/** Bytes and shard placements that are somewhere after the rebalance that they were not before. */
export function moved(before: Map<string, { bytes: number }>, after: Map<string, { bytes: number }>): { shards: number; bytes: number } {
  let shards = 0;
  let bytes = 0;
  for (const [k, v] of after) {
    if (before.has(k)) continue;
    shards += 1;
    bytes += v.bytes;
  }
  return { shards, bytes };
}

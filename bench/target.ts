// The database a benchmark loads into: plain PostgreSQL, or the local Citus cluster that
// scripts/citus-local.sh starts. Creates one fresh price-paid table per contender and round (distributed
// before loading on Citus, the same for every contender), counts its rows, and drops it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { ukPriceTableSql } from '../src/gen/pricePaid.js';
import { parseTableName, qualifiedName } from '../src/sink/names.js';

export type TargetKind = 'plain' | 'citus';
/** How the service reaches the database: `direct` (plain or citus-local), or the HA stack's HAProxy or PgBouncer. */
export type Via = 'direct' | 'haproxy' | 'pgbouncer';

export const SCHEMA = 'bench';
const plainDefault = 'postgres://postgres@127.0.0.1:5432/test';

export interface Target {
  kind: TargetKind;
  url: string;
  /** The service contenders' DATABASE_URL and DATABASE_POOL_MODE (the other contenders use `url`). */
  /** The service's DATABASE_URL and pool mode; behind PgBouncer also the LISTEN connection docs/ha.md asks for. */
  service: { url: string; poolMode: 'direct' | 'transaction'; listenUrl?: string };
  /** Shards per table on Citus; unused on plain PostgreSQL. */
  shards: number;
  db: pg.Client;
  postgresVersion: string;
  citusVersion: string | null;
  citusWorkers: number | null;
  close(): Promise<void>;
}

/** Thrown when `--target citus` is asked for on a machine without Citus (citus-local.sh exit 3). */
export class CitusUnavailable extends Error {
  override name = 'CitusUnavailable';
}

function citusUrl(root: string): string {
  const run = spawnSync('bash', [path.join(root, 'scripts/citus-local.sh'), 'up'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (run.status === 3) throw new CitusUnavailable(run.stderr.trim() || 'the citus extension is not installed');
  if (run.status !== 0) throw new Error(`scripts/citus-local.sh up failed (exit ${run.status}):\n${run.stderr.trim()}`);
  const lines = run.stdout.trim().split('\n');
  return lines[lines.length - 1]!.trim();
}

/** The database a bench run loads: the local Citus cluster's coordinator, or BENCH_DATABASE_URL / the default. */
export function benchDatabaseUrl(kind: TargetKind, root: string, env: NodeJS.ProcessEnv): string {
  return kind === 'citus' ? citusUrl(root) : (env.BENCH_DATABASE_URL ?? plainDefault);
}

/** The HA stack's URLs (scripts/ha-local.sh up): leader direct, HAProxy, PgBouncer. */
function haUrls(root: string): { haproxy: string; pgbouncer: string } {
  const run = spawnSync('bash', [path.join(root, 'scripts/ha-local.sh'), 'up'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (run.status === 3) throw new CitusUnavailable(run.stderr.trim() || 'the HA stack packages are not installed');
  if (run.status !== 0) throw new Error(`scripts/ha-local.sh up failed (exit ${run.status}):\n${run.stderr.trim()}`);
  const [, haproxy, pgbouncer] = run.stdout.trim().split('\n').slice(-3).map((l) => l.trim());
  return { haproxy: haproxy!, pgbouncer: pgbouncer! };
}

export async function openTarget(kind: TargetKind, shards: number, root: string, env: NodeJS.ProcessEnv, via: Via = 'direct'): Promise<Target> {
  // Through the HA stack every contender but the service loads through HAProxy (a direct session to the
  // coordinator's leader); the service goes through HAProxy or PgBouncer as asked.
  const ha = via === 'direct' ? undefined : haUrls(root);
  const url = ha ? ha.haproxy : benchDatabaseUrl(kind, root, env);
  // Behind PgBouncer the service's LISTEN (GET /jobs/:id?wait=, which times every load) goes through HAProxy,
  // as docs/ha.md has it: without it ?wait= falls back to its recheck timer and the wall time measures that.
  const service = via === 'pgbouncer' ? { url: ha!.pgbouncer, poolMode: 'transaction' as const, listenUrl: ha!.haproxy } : { url, poolMode: 'direct' as const };
  const db = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await db.connect();
  const version = (await db.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
  const ext = await db.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'citus'`);
  const citusVersion = ext.rows[0]?.v ?? null;
  if (kind === 'citus' && !citusVersion) throw new CitusUnavailable(`${url} has no citus extension`);
  const workers =
    kind === 'citus' ? Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM citus_get_active_worker_nodes()')).rows[0]!.n) : null;
  await db.query(`SET client_min_messages = warning`);
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  return {
    kind,
    url,
    service,
    shards,
    db,
    postgresVersion: version,
    citusVersion,
    citusWorkers: workers,
    close: () => db.end(),
  };
}

/** `bench.pp_<contender>_<round>`, with anything but [a-z0-9_] in the contender's name made `_`. */
export function tableName(contender: string, round: number): string {
  return `${SCHEMA}.pp_${contender.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_${round}`;
}

/** Drops any leftover of the name, creates the table, and distributes it on Citus before any row arrives. */
export async function createTable(target: Target, table: string): Promise<void> {
  await target.db.query(`DROP TABLE IF EXISTS ${table}`);
  await target.db.query(ukPriceTableSql(table));
  if (target.kind === 'citus') {
    await target.db.query(`SELECT create_distributed_table($1, 'transaction_unique_identifier', shard_count => $2)`, [table, target.shards]);
  }
}

/**
 * CHECKPOINT on every node, so each timed load starts with no dirty pages of the one before to write
 * (the same for every contender; it takes the checkpointer's bursts out of the comparison).
 */
export async function settle(target: Target): Promise<void> {
  await target.db.query('CHECKPOINT');
  if (target.kind === 'citus') await target.db.query(`SELECT run_command_on_workers('CHECKPOINT')`);
}

export async function countRows(target: Target, table: string): Promise<number> {
  return Number((await target.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
}

/** Drops the table and forgets the service's file- and chunk-ledger entries for it, so a rerun loads again. */
export async function dropTable(target: Target, table: string): Promise<void> {
  await target.db.query(`DROP TABLE IF EXISTS ${table}`);
  const name = qualifiedName(parseTableName(table));
  for (const ledger of ['ingest.file_ledger', 'ingest.chunk_ledger']) {
    await target.db.query(`DELETE FROM ${ledger} WHERE target = $1`, [name]).catch(() => {}); // no ingest schema yet: the service never ran here
  }
}

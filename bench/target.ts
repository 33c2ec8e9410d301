// The database a benchmark loads into: plain PostgreSQL, or the local Citus cluster that
// scripts/citus-local.sh starts. Creates one fresh price-paid table per contender and round (distributed
// before loading on Citus, the same for every contender), counts its rows, and drops it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { ukPriceTableSql } from '../src/gen/pricePaid.js';
import { parseTableName, qualifiedName } from '../src/target/names.js';

export type TargetKind = 'plain' | 'citus';

export const SCHEMA = 'bench';
const plainDefault = 'postgres://postgres@127.0.0.1:5432/test';

export interface Target {
  kind: TargetKind;
  url: string;
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

export async function openTarget(kind: TargetKind, shards: number, root: string, env: NodeJS.ProcessEnv): Promise<Target> {
  const url = kind === 'citus' ? citusUrl(root) : (env.BENCH_DATABASE_URL ?? plainDefault);
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

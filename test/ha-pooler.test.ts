// The service through PgBouncer in transaction mode (the HA stack of scripts/ha-local.sh): migrations
// from several processes at once, loads (per file, staged, chunked) and the API, with no session state
// left on the pooled server connections. Skipped, with the reason, where the stack's packages are missing
// (failing instead under CI).
import { randomUUID } from 'node:crypto';
import t from 'tap';
import pg from 'pg';
import { createPool } from '../src/db/pool.js';
import { migrate, readMigrations } from '../src/db/migrate.js';
import { pricePaidCsv, pricePaidRows, ukPriceTableSql } from '../src/gen/pricePaid.js';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';
import { haStack } from './helpers/ha.js';

const ha = haStack();
const skip = ha.skip ?? false;
const stack = ha.stack;

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

t.test('processes migrating one fresh database at once through PgBouncer apply each migration once and leave no lock behind', { skip }, async (t) => {
  const db = `mig_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: stack!.pgbouncerUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  t.teardown(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {});
    await admin.end();
  });
  const url = withDatabase(stack!.pgbouncerUrl, db);
  const pools = [1, 2, 3, 4].map(() => createPool(url, { max: 2, poolMode: 'transaction' }));
  t.teardown(() => Promise.all(pools.map((p) => p.end())));

  const applied = await Promise.all(pools.map((p) => migrate(p)));
  const all = (await readMigrations()).map((m) => m.name);
  t.same(applied.flat().sort(), all, 'every migration applied by exactly one of the processes');
  const { rows } = await pools[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM ingest.migrations');
  t.equal(rows[0]!.n, all.length);
  t.same(await migrate(pools[1]!), [], 'a later start finds nothing to do');

  // Behind HAProxy is the leader itself: no advisory lock may stay held on a pooled server connection.
  const direct = new pg.Client({ connectionString: withDatabase(stack!.haproxyUrl, db) });
  await direct.connect();
  const locks = await direct.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = $1`,
    [db],
  );
  await direct.end();
  t.equal(locks.rows[0]!.n, 0, 'no advisory lock left held');
});

t.test('loads per file (several files), staged and chunked through PgBouncer land every row, and no setting leaks', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: stack!.pgbouncerUrl, databasePoolMode: 'transaction' });
  t.teardown(() => h.close());
  const rowsPerFile = 30_000;
  const files = [11, 12, 13];
  for (const seed of files) await h.put(`parts/part-${seed}.csv`, pricePaidCsv(rowsPerFile, seed));
  const big = await h.put('big.csv', pricePaidCsv(60_000, 21));
  const table = `${h.schema}.uk_price`;
  await h.db.query(ukPriceTableSql(table));
  await h.db.query(`SELECT create_distributed_table($1, 'transaction_unique_identifier', shard_count => 8)`, [table]);
  const svc = await h.start();

  const expected = (seeds: number[], rows: number): { n: number; sum: number } => {
    let n = 0;
    let sum = 0;
    for (const seed of seeds) for (const r of pricePaidRows(rows, seed)) { n++; sum += Number(r[1]); }
    return { n, sum };
  };
  const count = async (): Promise<{ n: number; sum: number; ids: number }> => {
    const { rows } = await h.db.query(`SELECT count(*)::int AS n, coalesce(sum(price::bigint), 0)::bigint AS sum, count(DISTINCT transaction_unique_identifier)::int AS ids FROM ${table}`);
    return { n: rows[0].n, sum: Number(rows[0].sum), ids: rows[0].ids };
  };

  // Per file, three files: the job keeps its sessions from file to file (no SET in transaction mode).
  const perFile = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: `s3://${h.bucket}/parts/` }, target: { table }, concurrency: 2 })).body.id, undefined, 180_000);
  t.equal(perFile.status, 'succeeded', JSON.stringify(perFile.error));
  let want = expected(files, rowsPerFile);
  t.same(await count(), { ...want, ids: want.n }, 'three files: every row once');

  // Staged (atomicity job): the stage table is created under a transaction-scoped lock.
  await h.put('staged/a.csv', pricePaidCsv(10_000, 31));
  const staged = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: `s3://${h.bucket}/staged/` }, target: { table }, atomicity: 'job' })).body.id, undefined, 180_000);
  t.equal(staged.status, 'succeeded', JSON.stringify(staged.error));
  const w2 = expected([31], 10_000);
  want = { n: want.n + w2.n, sum: want.sum + w2.sum };
  t.same(await count(), { ...want, ids: want.n }, 'staged rows published once');

  // Chunked, two streams.
  const chunked = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: big }, target: { table }, atomicity: 'chunk', streams: 2, chunkBytes: 1 << 20 })).body.id, undefined, 180_000);
  t.equal(chunked.status, 'succeeded', JSON.stringify(chunked.error));
  const w3 = expected([21], 60_000);
  want = { n: want.n + w3.n, sum: want.sum + w3.sum };
  t.same(await count(), { ...want, ids: want.n }, 'chunked rows once');
  const ledger = await h.db.query(`SELECT count(*)::int AS n, sum(rows_loaded)::int AS rows FROM ingest.chunk_ledger WHERE job_id = $1`, [chunked.id]);
  t.ok(ledger.rows[0].n > 1, `one ledger row per chunk (${ledger.rows[0].n})`);
  t.equal(ledger.rows[0].rows, 60_000, "the chunks' ledger rows add up to the file");

  // Every server connection PgBouncer hands out has the default setting: nothing leaked.
  const clients = await Promise.all([1, 2, 3, 4, 5, 6].map(async () => {
    const c = new pg.Client({ connectionString: stack!.pgbouncerUrl });
    await c.connect();
    return c;
  }));
  const seen = await Promise.all(clients.map(async (c) => {
    await c.query('BEGIN');
    const { rows } = await c.query<{ v: string }>(`SELECT current_setting('citus.max_cached_conns_per_worker') AS v`);
    return rows[0]!.v;
  }));
  await Promise.all(clients.map(async (c) => { await c.query('COMMIT'); await c.end(); }));
  t.same([...new Set(seen)], ['1'], 'citus.max_cached_conns_per_worker is the default on every pooled connection');
});

t.test('the API answers through PgBouncer; ?wait= ends at the job end with or without DATABASE_LISTEN_URL', { skip }, async (t) => {
  for (const listenUrl of [undefined, stack!.haproxyUrl]) {
    const h = await createHarness({ databaseUrl: stack!.pgbouncerUrl, databasePoolMode: 'transaction', databaseListenUrl: listenUrl });
    t.teardown(() => h.close());
    const url = await h.put('one.csv', pricePaidCsv(5_000, 41));
    const svc = await h.start();
    const table = `${h.schema}.uk_price`;
    await h.db.query(ukPriceTableSql(table));
    const posted = await postJob(svc.url!, { source: { url }, target: { table } });
    t.equal(posted.status, 202, JSON.stringify(posted.body));
    const res = await fetch(`${svc.url}/jobs/${posted.body.id}?wait=60`);
    t.equal(res.status, 200);
    const job = (await res.json()) as any;
    t.equal(job.status, 'succeeded', `wait ended with the job (listen: ${listenUrl ? 'DATABASE_LISTEN_URL' : 'recheck timer'})`);
    t.equal(job.progress.rowsLoaded, 5_000);
    const list = await fetch(`${svc.url}/jobs?limit=5`);
    t.equal(list.status, 200);
    t.ok(((await list.json()) as any).jobs.some((j: any) => j.id === posted.body.id), 'the job is listed');
    const n = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
    t.equal(n.rows[0].n, 5_000);
  }
});

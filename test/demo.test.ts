// `npm run demo` end to end, as a new user runs it: on plain PostgreSQL, and on Citus (--citus, or
// DATABASE_URL at a coordinator), where the sample must land in a table distributed over both workers
// and the printed shard layout must be the one citus_shards shows. The Citus tests skip with a reason
// where the citus extension is not installed, except under CI=true, where a missing Citus fails
// (test/helpers/requirement.ts).
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { createHarness, testDatabaseUrl, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';
import { fmtBytes } from '../src/cli/format.js';
import { DEMO_SAMPLE_SEED, pricePaidRows, ukPriceTableSql } from '../src/gen/pricePaid.js';

// Four demo runs, each starting tsx, an S3 endpoint and the service: minutes on a busy machine.
t.setTimeout(600_000);

const cluster = citusCluster();
const skip = cluster.skip ?? false;

function runDemo(h: Harness, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const childEnv = {
    ...process.env,
    DATABASE_URL: h.config.databaseUrl,
    REDIS_URL: h.config.redisUrl,
    QUEUE_NAME: `${h.config.queueName}-demo`,
    S3_ENDPOINT: '',
    ...env,
  };
  return new Promise((resolve) => {
    const child = spawn('node_modules/.bin/tsx', ['scripts/demo.ts', ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** The sample's rows and price total, regenerated from the seed the demo uploads with. */
function sampleFacts(rows: number): { rows: number; priceSum: number } {
  let priceSum = 0;
  for (const fields of pricePaidRows(rows, DEMO_SAMPLE_SEED)) priceSum += Number(fields[1]);
  return { rows, priceSum };
}

/** What the demo should print as the shard layout, computed from citus_shards. */
async function expectedLayout(h: Harness, table: string): Promise<{ nodes: string[][]; skew: string; shards: number }> {
  const { rows } = await h.db.query(
    `SELECT nodename || ':' || nodeport AS node, count(*)::int AS shards, sum(shard_size)::bigint AS bytes,
            max(shard_size)::bigint AS mx, min(shard_size)::bigint AS mn
       FROM citus_shards WHERE table_name = $1::regclass GROUP BY 1 ORDER BY 1`,
    [table],
  );
  const mx = Math.max(...rows.map((r) => Number(r.mx)));
  const mn = Math.min(...rows.map((r) => Number(r.mn)));
  return {
    nodes: rows.map((r) => [r.node, String(r.shards), fmtBytes(Number(r.bytes))]),
    skew: `skew: ${(Math.round((mx / mn) * 1000) / 1000).toFixed(3)} (largest shard ${fmtBytes(mx)}, smallest ${fmtBytes(mn)})`,
    shards: rows.reduce((a, r) => a + r.shards, 0),
  };
}

/** The node rows of the printed shard layout table: [node, shards, bytes]. */
function printedLayout(out: string): string[][] {
  const at = out.indexOf('shard layout (');
  if (at === -1) return [];
  return [...out.slice(at).matchAll(/^\| (\S+:\d+) +\| +(\d+) \| +([^|]+?) \|$/gm)].map((m) => [m[1]!, m[2]!, m[3]!]);
}

/** Checks the distributed table against the sample and the printed layout against citus_shards. */
async function checkDistributed(t: Test, h: Harness, table: string, out: string, rows: number): Promise<void> {
  const want = sampleFacts(rows);
  const got = await h.db.query(`SELECT count(*)::int AS n, sum(price::bigint)::bigint AS s FROM ${table}`);
  t.equal(got.rows[0].n, want.rows, 'every sample row is in the distributed table');
  t.equal(Number(got.rows[0].s), want.priceSum, 'the prices sum to the sample total');
  const part = await h.db.query(
    `SELECT citus_table_type, distribution_column, shard_count::int AS shards FROM citus_tables WHERE table_name = $1::regclass`,
    [table],
  );
  t.same(part.rows[0], { citus_table_type: 'distributed', distribution_column: 'transaction_unique_identifier', shards: 32 });
  const local = await h.db.query(`SELECT pg_relation_size($1::regclass)::bigint AS b`, [table]);
  t.equal(Number(local.rows[0].b), 0, "the coordinator's shell table holds no rows: they went to the shards");

  const layout = await expectedLayout(h, table);
  t.equal(layout.shards, 32, '32 shards in citus_shards');
  t.equal(layout.nodes.length, 2, 'shards on both workers');
  t.ok(layout.nodes.every((n) => Number(n[1]) > 0), 'each worker holds shards');
  t.match(out, /shard layout \(distributed on transaction_unique_identifier, 32 shards, colocation group \d+\)/);
  t.same(printedLayout(out), layout.nodes, 'the printed nodes, shards and bytes are those of citus_shards');
  t.ok(out.includes(layout.skew), `the printed skew is citus_shards' largest over smallest shard: ${layout.skew}`);
  t.match(out, /\| COPY +\| +[\d.]+ m?s \|/, 'the timing table comes first');
  t.ok(out.indexOf('| COPY ') < out.indexOf('shard layout ('), 'timings, then the layout');
}

t.test('npm run demo loads the sample through the API and prints the timing table', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.uk_price_demo`;
  const first = await runDemo(h, ['--rows', '3000', '--table', table]);
  t.equal(first.code, 0, first.out + first.err);
  t.match(first.out, /no citus extension at DATABASE_URL/);
  t.match(first.out, /started an embedded S3 endpoint/);
  t.match(first.out, /job [0-9a-f-]{36} succeeded/);
  t.match(first.out, /\| COPY +\| +[\d.]+ m?s \|/);
  t.match(first.out, /\| rows loaded +\| +3,000 \|/);
  t.match(first.out, /had 0 rows, now 3,000 \(\+3,000\)/);
  t.notMatch(first.out, /shard layout \(/, 'a plain table has no shard layout');
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(rows[0].n, 3000);
  await h.db.query(`DELETE FROM ingest.file_ledger WHERE target = $1`, [`"${h.schema}"."uk_price_demo"`]);
});

t.test('npm run demo -- --citus without the citus extension says why in one line and exits non-zero', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  // A PostgreSQL whose pg_config cannot be found has no citus.so to start a cluster with.
  const res = await runDemo(h, ['--citus', '--rows', '10', '--table', `${h.schema}.uk_price_demo`], { PG_CONFIG: '/nonexistent/pg_config' });
  t.not(res.code, 0, 'exits non-zero');
  const lines = res.err.split('\n').filter((l) => l.trim() !== '');
  t.equal(lines.length, 1, `one line: ${res.err}`);
  t.match(lines[0], /^demo: --citus: citus extension not installed/);
  t.equal(res.out, '', 'nothing else happened');
});

t.test('npm run demo -- --citus distributes the sample over both workers in 32 shards and prints the layout citus_shards shows', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: cluster.url! });
  t.teardown(() => h.close());
  const table = `${h.schema}.uk_price_demo`;
  // --citus loads into the local cluster whatever DATABASE_URL says.
  const res = await runDemo(h, ['--citus', '--rows', '3000', '--table', table], { DATABASE_URL: testDatabaseUrl });
  t.equal(res.code, 0, res.out + res.err);
  t.match(res.out, /--citus: local Citus cluster up/);
  t.match(res.out, /job [0-9a-f-]{36} succeeded: 3,000 rows loaded/);
  await checkDistributed(t, h, table, res.out, 3000);
  await h.db.query(`DELETE FROM ingest.file_ledger WHERE target = $1`, [`"${h.schema}"."uk_price_demo"`]);
});

t.test('plain npm run demo at a Citus coordinator distributes the table; --fresh drops an earlier local one and its ledger rows', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: cluster.url! });
  t.teardown(() => h.close());
  const table = `${h.schema}.uk_price_demo`;
  const target = `"${h.schema}"."uk_price_demo"`;
  // What an older demo left on the coordinator: a local table with rows, and a ledger row for it.
  await h.db.query(ukPriceTableSql(table));
  await h.db.query(`INSERT INTO ${table} (transaction_unique_identifier, price) VALUES (gen_random_uuid(), '1'), (gen_random_uuid(), '2')`);
  await h.db.query(
    `INSERT INTO ingest.file_ledger (target, container, key, version, size, job_id, run_id, rows_loaded)
     VALUES ($1, 'landing', 'price-paid/pp-sample-3000.csv', 'old-etag', 1, gen_random_uuid(), gen_random_uuid(), 2)`,
    [target],
  );
  const res = await runDemo(h, ['--fresh', '--rows', '3000', '--table', table]);
  t.equal(res.code, 0, res.out + res.err);
  t.match(res.out, /Citus [\d.-]+ at DATABASE_URL: .* is distributed on transaction_unique_identifier over 32 shards/);
  t.match(res.out, /--fresh: dropped .*uk_price_demo" and its 1 file ledger entry/);
  t.match(res.out, /had 0 rows, now 3,000 \(\+3,000\)/);
  await checkDistributed(t, h, table, res.out, 3000);
  const ledger = await h.db.query(`SELECT version, rows_loaded::int AS rows FROM ingest.file_ledger WHERE target = $1`, [target]);
  t.equal(ledger.rows.length, 1, 'the old ledger row is gone, the new load has its own');
  t.not(ledger.rows[0].version, 'old-etag');
  t.equal(ledger.rows[0].rows, 3000);
  await h.db.query(`DELETE FROM ingest.file_ledger WHERE target = $1`, [target]);
});

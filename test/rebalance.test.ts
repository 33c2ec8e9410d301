// What the reference workflow did by hand after growing the cluster: a 32-shard table loaded on two
// workers, a third worker added, the shards rebalanced, here through POST /tables/:name/rebalance. It
// runs on a cluster of its own (ports 9710-9713, /tmp/citus-ingest-rebal), never on the shared 9700
// cluster that other tests assume has two workers, and purges it at the end.
import t from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHarness, waitForJob } from './helpers/harness.js';
import { pricePaidCsv, ukPriceColumns } from '../src/gen/pricePaid.js';

// Starting three PostgreSQL servers and adding a fourth takes minutes on a busy machine.
t.setTimeout(1_800_000);

const env = {
  ...process.env,
  CITUS_LOCAL_DIR: '/tmp/citus-ingest-rebal',
  CITUS_COORD_PORT: '9710',
  CITUS_WORKER1_PORT: '9711',
  CITUS_WORKER2_PORT: '9712',
  CITUS_WORKER3_PORT: '9713',
};

function script(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('bash', ['scripts/citus-local.sh', ...args], { encoding: 'utf8', env, timeout: 600_000 });
}

/** The same, without blocking the event loop (the service under test runs in this process). */
async function scriptAsync(...args: string[]): Promise<{ status: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)('bash', ['scripts/citus-local.sh', ...args], { encoding: 'utf8', env, timeout: 600_000 });
    return { status: 0, stderr };
  } catch (err) {
    return { status: (err as { code?: number }).code ?? 1, stderr: String((err as { stderr?: string }).stderr ?? err) };
  }
}

// A fresh cluster of two workers: a leftover one may hold a third.
const down = script('down', '--purge');
const up = down.status === 0 ? script('up') : down;
const skip = up.status === 3 ? 'citus extension not installed: rebalance test skipped' : false;
if (!skip && up.status !== 0) throw new Error(`citus-local.sh up failed (${up.status}): ${up.stderr}`);
const url = skip ? '' : up.stdout.trim().split('\n').pop()!;
t.teardown(() => {
  script('down', '--purge');
});

async function post(base: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  for (let i = 0; ; i++) {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch((err) => {
      if (i < 5) return undefined; // a kept-alive connection the server closed meanwhile
      throw err;
    });
    if (!res || (res.status === 503 && i < 20)) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    return { status: res.status, body: await res.json() };
  }
}

t.test('a third worker joins; the rebalance job moves shards onto it with rows and sums intact', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: url });
  t.teardown(() => h.close());
  const svc = await h.start();
  const table = `${h.schema}.uk_price`;
  const rows = 20_000;
  const create = {
    columns: ukPriceColumns.map((name) => ({ name, type: name === 'transaction_unique_identifier' ? 'uuid' : name === 'price' ? 'integer' : 'varchar(100)' })),
    primaryKey: ['transaction_unique_identifier'],
  };
  const load = await post(svc.url!, '/jobs', {
    source: { url: await h.put('pp.csv', pricePaidCsv(rows, 77)) },
    target: { table, create, distribution: { column: 'transaction_unique_identifier', shardCount: 32 } },
  });
  t.equal(load.status, 202, JSON.stringify(load.body));
  t.equal((await waitForJob(svc.url!, load.body.id, undefined, 300_000)).status, 'succeeded');
  const facts = async () => (await h.db.query(`SELECT count(*)::int AS n, sum(price)::bigint AS s FROM ${table}`)).rows[0];
  const loaded = await facts();
  t.equal(loaded.n, rows);
  const nodes = async () =>
    (await h.db.query(`SELECT nodeport::int AS port, count(*)::int AS shards FROM citus_shards WHERE table_name = $1::regclass GROUP BY 1 ORDER BY 1`, [table])).rows;
  t.same((await nodes()).map((r) => r.port), [9711, 9712], 'two workers before');

  const added = await scriptAsync('add-worker');
  t.equal(added.status, 0, added.stderr);
  const res = await post(svc.url!, `/tables/${table}/rebalance`, { strategy: 'by_shard_count' });
  t.equal(res.status, 202, JSON.stringify(res.body));
  const job = await waitForJob(svc.url!, res.body.id, undefined, 1_200_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const r = job.result;
  t.ok(r.movesPlanned > 0, `moves planned: ${r.movesPlanned}`);
  t.equal(r.movesDone, r.movesPlanned, 'every planned move done');
  t.ok(r.bytesMoved > 0, `bytes moved: ${r.bytesMoved}`);
  t.same(r.layoutBefore.nodes.map((n: any) => n.node), ['127.0.0.1:9711', '127.0.0.1:9712']);
  t.same(r.layoutAfter.nodes.map((n: any) => n.node).sort(), ['127.0.0.1:9711', '127.0.0.1:9712', '127.0.0.1:9713']);
  t.type(r.layoutAfter.skew, 'number');
  const after = await nodes();
  t.same(after.map((x) => x.port), [9711, 9712, 9713], 'placements on all three workers');
  t.equal(after.reduce((a, x) => a + x.shards, 0), 32);
  t.ok(after.every((x) => x.shards >= 10 && x.shards <= 11), `balanced by shard count: ${JSON.stringify(after)}`);
  t.same(await facts(), loaded, 'rows and their price sum intact');
  const samples: Array<[number, number, number]> = job.runs[0].samples;
  t.equal(samples[0]![1], 0, 'progress started at 0 moves');
  t.equal(samples.at(-1)![1], r.movesPlanned, 'and ended at the planned count');
  t.ok(samples.every((s, i) => i === 0 || s[1] >= samples[i - 1]![1]), 'moves only went up');
  t.type(job.runs[0].timings.rebalanceMs, 'number');
  console.log(`# rebalance: ${r.movesDone} moves, ${r.bytesMoved} bytes in ${job.runs[0].timings.rebalanceMs} ms`);
});

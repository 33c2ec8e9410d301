// Table operations as jobs on plain PostgreSQL: analyze (as a job, and after a load: by default a table
// the job created), and a rebalance refused before anything runs.
import t from 'tap';
import { createHarness, waitForJob, type Harness } from './helpers/harness.js';

async function post(url: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  for (let i = 0; ; i++) {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // The shared machine can stall the event loop for a second: the API then answers 503 OVERLOADED.
    if (res.status === 503 && i < 20) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    return { status: res.status, body: await res.json() };
  }
}

const reltuples = async (h: Harness, table: string) => (await h.db.query('SELECT reltuples::int AS n FROM pg_class WHERE oid = $1::regclass', [table])).rows[0].n;

t.test('a table the job creates is analyzed after its load; an existing one only when afterLoad asks', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start();
  const rows = Array.from({ length: 500 }, (_, i) => `${i},${i * 2}`).join('\n') + '\n';
  const created = `${h.schema}.fresh`;
  const a = await post(svc.url!, '/jobs', { source: { url: await h.put('a.csv', rows) }, target: { table: created, create: { columns: [{ name: 'a', type: 'int' }, { name: 'b', type: 'int' }] } } });
  const jobA = await waitForJob(svc.url!, a.body.id, undefined, 120_000);
  t.equal(jobA.status, 'succeeded', JSON.stringify(jobA.error));
  t.equal(await reltuples(h, created), 500, 'the new table has statistics');
  t.type(jobA.runs[0].timings.analyzeMs, 'number');

  const existing = `${h.schema}.old`;
  await h.db.query(`CREATE TABLE ${existing} (a int, b int)`);
  const b = await post(svc.url!, '/jobs', { source: { url: await h.put('b.csv', rows) }, target: { table: existing } });
  t.equal((await waitForJob(svc.url!, b.body.id, undefined, 120_000)).status, 'succeeded');
  t.equal(await reltuples(h, existing), -1, 'an existing table is left to autovacuum by default');
  const c = await post(svc.url!, '/jobs', { source: { url: await h.put('c.csv', rows) }, target: { table: existing }, afterLoad: { analyze: true } });
  t.equal((await waitForJob(svc.url!, c.body.id, undefined, 120_000)).status, 'succeeded');
  t.equal(await reltuples(h, existing), 1000, 'afterLoad.analyze: true analyzes it');
});

t.test('POST /tables/:name/analyze runs ANALYZE as a job; a rebalance on plain PostgreSQL is refused at once', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start();
  const table = `${h.schema}.t`;
  await h.db.query(`CREATE TABLE ${table} AS SELECT g AS a FROM generate_series(1, 321) g`);
  t.equal(await reltuples(h, table), -1);
  const res = await post(svc.url!, `/tables/${table}/analyze`, {});
  t.equal(res.status, 202, JSON.stringify(res.body));
  const job = await waitForJob(svc.url!, res.body.id, undefined, 120_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same(job.result, { operation: 'analyze', table: `"${h.schema}"."t"` });
  t.type(job.runs[0].timings.analyzeMs, 'number');
  t.equal(await reltuples(h, table), 321);

  const before = (await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs')).rows[0].n;
  const rebalance = await post(svc.url!, `/tables/${table}/rebalance`, { strategy: 'by_shard_count' });
  t.equal(rebalance.status, 422);
  t.equal(rebalance.body.error.code, 'CITUS_NOT_AVAILABLE');
  t.equal((await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs')).rows[0].n, before, 'no job stored');
  const missing = await post(svc.url!, `/tables/${h.schema}.nope/analyze`, {});
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, 'TABLE_NOT_FOUND');
  const bad = await post(svc.url!, `/tables/${table}/rebalance`, { strategy: 'by_luck' });
  t.equal(bad.status, 400);
});

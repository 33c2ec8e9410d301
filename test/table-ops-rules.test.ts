// /tables/:name and its operations obey the rules a load job does (issue #30, items 5 and 8): the schema
// rule (reserved schemas, TARGET_ALLOWED_SCHEMAS) at submit, on GET, and again when the job runs; and
// notify.url is checked at submit, so a URL with a password or a metadata address is never stored.
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { createHarness, waitForJob, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';

async function call(url: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: any }> {
  for (let i = 0; ; i++) {
    const init = method === 'POST' ? { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) } : { method };
    const res = await fetch(`${url}${path}`, init);
    // The shared machine can stall the event loop for a second: the API then answers 503 OVERLOADED.
    if (res.status === 503 && i < 20) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    return { status: res.status, body: await res.json() };
  }
}

const reltuples = async (h: Harness, table: string) => (await h.db.query('SELECT reltuples::int AS n FROM pg_class WHERE oid = $1::regclass', [table])).rows[0].n;
const jobsStored = async (h: Harness) => (await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs WHERE queue = $1', [h.config.queueName])).rows[0].n;

/** A table in public for this test only, dropped at its end. */
async function publicTable(t: Test, h: Harness, sql: (name: string) => string): Promise<string> {
  const name = `public.tableops_${randomUUID().slice(0, 8)}`;
  await h.db.query(sql(name));
  t.teardown(() => h.db.query(`DROP TABLE IF EXISTS ${name}`).then(() => undefined));
  return name;
}

t.test('with TARGET_ALLOWED_SCHEMAS=public, GET, analyze and rebalance refuse other, ingest and pg_catalog tables; public works', async (t) => {
  const h = await createHarness({ targetAllowedSchemas: ['public'] });
  t.teardown(() => h.close());
  const other = `${h.schema}.t`;
  await h.db.query(`CREATE TABLE ${other} AS SELECT g AS a FROM generate_series(1, 321) g`);
  const mine = await publicTable(t, h, (name) => `CREATE TABLE ${name} AS SELECT g AS a FROM generate_series(1, 123) g`);
  const svc = await h.start();

  for (const table of [other, 'ingest.jobs', 'pg_catalog.pg_class', 'pg_catalog.pg_authid', `${h.schema}.missing`]) {
    for (const [method, path] of [['GET', `/tables/${table}`], ['POST', `/tables/${table}/analyze`], ['POST', `/tables/${table}/rebalance`]] as const) {
      const res = await call(svc.url!, method, path);
      t.equal(res.status, 400, `${method} ${path}: ${JSON.stringify(res.body)}`);
      t.equal(res.body.error?.code, 'TARGET_FORBIDDEN', `${method} ${path}: code`);
      t.equal(res.body.error?.details?.field, 'name', `${method} ${path}: field`);
      t.notOk('sizeBytes' in res.body, `${method} ${path}: no size answered`);
    }
  }
  t.equal(await jobsStored(h), 0, 'no job stored');
  t.equal(await reltuples(h, other), -1, 'the other schema\'s table was not analyzed');

  const facts = await call(svc.url!, 'GET', `/tables/${mine}`);
  t.equal(facts.status, 200, JSON.stringify(facts.body));
  t.equal(facts.body.type, 'local');
  const analyze = await call(svc.url!, 'POST', `/tables/${mine}/analyze`);
  t.equal(analyze.status, 202, JSON.stringify(analyze.body));
  const job = await waitForJob(svc.url!, analyze.body.id, undefined, 120_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(await reltuples(h, mine), 123, 'the table in public was analyzed');
  const rebalance = await call(svc.url!, 'POST', `/tables/${mine}/rebalance`);
  t.equal(rebalance.body.error?.code, 'CITUS_NOT_AVAILABLE', 'a rebalance in public gets past the rule to the Citus check');
});

t.test('an operation stored before the rule is refused by the worker on the schema the catalog resolves', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const other = `${h.schema}.t`;
  await h.db.query(`CREATE TABLE ${other} AS SELECT g AS a FROM generate_series(1, 321) g`);
  const api = await h.start('api');
  const res = await call(api.url!, 'POST', `/tables/${other}/analyze`);
  t.equal(res.status, 202, 'accepted by an API with no TARGET_ALLOWED_SCHEMAS');
  await h.start('worker', { targetAllowedSchemas: ['public'] });
  const job = await waitForJob(api.url!, res.body.id, undefined, 120_000);
  t.equal(job.status, 'failed');
  t.equal(job.error?.code, 'TARGET_FORBIDDEN');
  t.equal(await reltuples(h, other), -1, 'ANALYZE did not run');
});

t.test('notify.url of a table operation is checked at submit: credentials and the metadata address are refused, nothing stored', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.t`;
  await h.db.query(`CREATE TABLE ${table} AS SELECT g AS a FROM generate_series(1, 10) g`);
  const svc = await h.start();
  const urls = ['http://user:secretpw@127.0.0.1:4103/cb', 'http://169.254.169.254/latest/meta-data/', 'http://127.0.0.1:4103/cb'];
  for (const url of urls) {
    for (const op of ['analyze', 'rebalance']) {
      const res = await call(svc.url!, 'POST', `/tables/${table}/${op}`, { notify: { url } });
      t.equal(res.status, 400, `${op} ${url}: ${JSON.stringify(res.body)}`);
      t.equal(res.body.error?.code, 'NOTIFY_URL_FORBIDDEN', `${op} ${url}: code`);
      t.notMatch(JSON.stringify(res.body), /secretpw/, 'the password is not echoed');
    }
  }
  t.equal(await jobsStored(h), 0, 'no job stored, so no password kept');
  const plain = await call(svc.url!, 'POST', `/tables/${table}/analyze`, {});
  t.equal(plain.status, 202, 'without notify the same table is accepted');
  t.equal((await waitForJob(svc.url!, plain.body.id, undefined, 120_000)).status, 'succeeded');
  t.equal(await reltuples(h, table), 10);
});

const cluster = citusCluster();
t.test('on Citus: rebalance and GET refuse a distributed table outside TARGET_ALLOWED_SCHEMAS; one in public is rebalanced', { skip: cluster.skip ?? false }, async (t) => {
  const h = await createHarness({ databaseUrl: cluster.url ?? '', targetAllowedSchemas: ['public'] });
  t.teardown(() => h.close());
  const other = `${h.schema}.dist`;
  await h.db.query(`CREATE TABLE ${other} (id int PRIMARY KEY)`);
  await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 4, colocate_with => 'none')`, [other]);
  // Its own colocation group, spread evenly by create_distributed_table: a rebalance plans no move, so
  // the shared cluster's other tables are left where they are.
  const mine = await publicTable(t, h, (name) => `CREATE TABLE ${name} (id int PRIMARY KEY)`);
  await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 4, colocate_with => 'none')`, [mine]);
  const svc = await h.start();
  for (const table of [other, 'ingest.jobs', 'pg_catalog.pg_class', 'pg_catalog.pg_dist_partition']) {
    const requests = [['GET', `/tables/${table}`, undefined], ['POST', `/tables/${table}/rebalance`, { strategy: 'by_shard_count' }], ['POST', `/tables/${table}/analyze`, {}]] as const;
    for (const [method, path, body] of requests) {
      const res = await call(svc.url!, method, path, body);
      t.equal(res.status, 400, `${method} ${path}: ${JSON.stringify(res.body)}`);
      t.equal(res.body.error?.code, 'TARGET_FORBIDDEN', `${method} ${path}: code`);
    }
  }
  t.equal(await jobsStored(h), 0, 'no job stored');

  const facts = await call(svc.url!, 'GET', `/tables/${mine}`);
  t.equal(facts.status, 200, JSON.stringify(facts.body));
  t.same([facts.body.type, facts.body.shardCount], ['distributed', 4]);
  const res = await call(svc.url!, 'POST', `/tables/${mine}/rebalance`, { strategy: 'by_shard_count' });
  t.equal(res.status, 202, JSON.stringify(res.body));
  const job = await waitForJob(svc.url!, res.body.id, undefined, 120_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.movesDone, 0);
});

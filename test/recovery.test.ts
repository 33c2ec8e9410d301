import t from 'tap';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';
import { pricePaidCsv, ukPriceTableSql } from '../src/gen/pricePaid.js';
import { createQueue } from '../src/queue/queue.js';

t.test('jobs queued while no worker runs are picked up when a worker starts', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const api = await h.start('api');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const url = await h.put(`part-${i}.csv`, pricePaidCsv(1_000, 100 + i));
    ids.push((await postJob(api.url!, { source: { url }, target: { table: `${h.schema}.uk_price` } })).body.id);
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const id of ids) t.equal((await waitForJob(api.url!, id, ['queued'])).status, 'queued');

  const worker = await h.start('worker');
  for (const id of ids) t.equal((await waitForJob(api.url!, id)).status, 'succeeded');
  await worker.stop();
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.uk_price`);
  t.equal(rows[0].n, 3_000);
});

t.test('a job lost from Redis is re-enqueued from PostgreSQL by the reconciler', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const api = await h.start('api');
  const url = await h.put('lost.csv', pricePaidCsv(2_000, 9));
  const { body } = await postJob(api.url!, { source: { url }, target: { table: `${h.schema}.uk_price` } });
  // Redis loses the queue (no persistence, a flush, a failover): the job is only in PostgreSQL now.
  const queue = createQueue(h.config);
  await queue.obliterate({ force: true });
  await queue.close();
  // The reconciler leaves very fresh jobs alone (the API may be enqueuing them); age this one.
  await h.db.query(`UPDATE ingest.jobs SET updated_at = updated_at - interval '1 minute' WHERE id = $1`, [body.id]);
  await h.start('worker');
  const job = await waitForJob(api.url!, body.id);
  t.equal(job.status, 'succeeded');
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.uk_price`);
  t.equal(rows[0].n, 2_000);
});

t.test('re-submitting a loaded object loads nothing twice and names the run that loaded it', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const svc = await h.start();
  const url = await h.put('once.csv', pricePaidCsv(1_500, 21));
  const spec = { source: { url }, target: { table: `${h.schema}.uk_price` } };
  const first = await waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id);
  t.equal(first.status, 'succeeded');
  const second = await waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id);
  t.equal(second.status, 'succeeded');
  t.equal(second.progress.rowsLoaded, 0);
  t.equal(second.result.filesSkipped, 1);
  t.equal(second.runs[0].files[0].status, 'skipped');
  t.equal(second.runs[0].files[0].loadedByRun, first.runs[0].id);
  t.equal(second.result.skipped[0].jobId, first.id);
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.uk_price`);
  t.equal(rows[0].n, 1_500);
});

t.test('the same Idempotency-Key returns the same job; another spec under it gets 409', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const api = await h.start('api');
  const key = `key-${h.schema}`;
  const spec = { source: { url: 's3://landing/idem.csv' }, target: { table: `${h.schema}.t` } };
  const a = await postJob(api.url!, spec, { 'idempotency-key': key });
  const b = await postJob(api.url!, spec, { 'idempotency-key': key });
  t.equal(a.status, 202, JSON.stringify(a.body));
  t.equal(b.status, 200);
  t.equal(b.body.id, a.body.id);
  const c = await postJob(api.url!, { ...spec, format: { header: true } }, { 'idempotency-key': key });
  t.equal(c.status, 409);
  t.equal(c.body.error.code, 'IDEMPOTENCY_CONFLICT');
  const { rows } = await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs WHERE idempotency_key = $1', [key]);
  t.equal(rows[0].n, 1);
});

t.test('the Idempotency-Key compares the spec, not the order of its keys', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const api = await h.start('api');
  const key = `order-${h.schema}`;
  const a = await postJob(
    api.url!,
    { source: { url: 's3://landing/idem.csv' }, target: { table: `${h.schema}.t`, columns: ['a', 'b'] }, format: { header: true, delimiter: ';' }, maxErrors: 3 },
    { 'idempotency-key': key },
  );
  const b = await postJob(
    api.url!,
    { maxErrors: 3, format: { delimiter: ';', header: true }, target: { columns: ['a', 'b'], table: `${h.schema}.t` }, source: { url: 's3://landing/idem.csv' } },
    { 'idempotency-key': key },
  );
  t.equal(a.status, 202);
  t.equal(b.status, 200, JSON.stringify(b.body));
  t.equal(b.body.id, a.body.id);
  // Column order is meaning, not layout: swapped, it is another spec.
  const c = await postJob(
    api.url!,
    { source: { url: 's3://landing/idem.csv' }, target: { table: `${h.schema}.t`, columns: ['b', 'a'] }, format: { header: true, delimiter: ';' }, maxErrors: 3 },
    { 'idempotency-key': key },
  );
  t.equal(c.status, 409);
  t.equal(c.body.error.code, 'IDEMPOTENCY_CONFLICT');
  const { rows } = await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs WHERE idempotency_key = $1', [key]);
  t.equal(rows[0].n, 1);
});

import t from 'tap';
import { randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
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

t.test('the ledger follows the table, not its name: a table dropped and created again loads the file again', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start();
  const table = `${h.schema}.rebuilt`;
  const target = `"${h.schema}"."rebuilt"`;
  const url = await h.put('rebuilt.csv', '1,a\n2,b\n3,c\n');
  const run = async (extra: Record<string, unknown> = {}) => {
    const res = await postJob(svc.url!, { source: { url }, target: { table }, ...extra });
    t.equal(res.status, 202, JSON.stringify(res.body));
    return waitForJob(svc.url!, res.body.id);
  };
  const sum = async () => (await h.db.query(`SELECT count(*)::int AS n, coalesce(sum(id), 0)::int AS s FROM ${table}`)).rows[0];

  for (const atomicity of ['file', 'chunk'] as const) {
    await h.db.query(`DROP TABLE IF EXISTS ${table}`);
    await h.db.query(`CREATE TABLE ${table} (id int, note text)`);
    await h.db.query('DELETE FROM ingest.file_ledger WHERE target = $1', [target]);
    await h.db.query('DELETE FROM ingest.chunk_ledger WHERE target = $1', [target]);
    const first = await run({ atomicity });
    t.equal(first.status, 'succeeded', `${atomicity}: ${JSON.stringify(first.error)}`);
    t.same(await sum(), { n: 3, s: 6 }, `${atomicity}: loaded`);
    const again = await run({ atomicity });
    t.equal(again.result.filesSkipped, 1, `${atomicity}: the same table skips it`);
    t.same(await sum(), { n: 3, s: 6 });

    await h.db.query(`DROP TABLE ${table}`);
    await h.db.query(`CREATE TABLE ${table} (id int, note text)`);
    const rebuilt = await run({ atomicity });
    t.equal(rebuilt.status, 'succeeded', JSON.stringify(rebuilt.error));
    t.equal(rebuilt.result.filesLoaded, 1, `${atomicity}: the new table under the old name loads it`);
    t.equal(rebuilt.result.filesSkipped, 0);
    t.same(await sum(), { n: 3, s: 6 }, `${atomicity}: the rows are in the new table`);
    const oid = (await h.db.query(`SELECT $1::regclass::oid::text AS oid`, [table])).rows[0].oid;
    const ledger = await h.db.query('SELECT target_oid::text AS oid FROM ingest.file_ledger WHERE target = $1', [target]);
    t.same(ledger.rows, [{ oid }], `${atomicity}: one ledger entry, for the new table`);
    if (atomicity === 'chunk') {
      const chunks = await h.db.query('SELECT DISTINCT target_oid::text AS oid FROM ingest.chunk_ledger WHERE target = $1', [target]);
      t.same(chunks.rows, [{ oid }], 'the chunk ledger follows the new table too');
    }
  }

  // Entries written before OIDs were kept still count by name.
  const legacyUrl = await h.put('legacy.csv', '100,x\n');
  const head = await h.s3Client.send(new HeadObjectCommand({ Bucket: 'landing', Key: 'legacy.csv' }));
  await h.db.query(
    `INSERT INTO ingest.file_ledger (target, container, key, version, size, job_id, run_id, rows_loaded) VALUES ($1, 'landing', 'legacy.csv', $2, $3, $4, $4, 1)`,
    [target, head.ETag!.replace(/"/g, ''), head.ContentLength, randomUUID()],
  );
  const legacy = await postJob(svc.url!, { source: { url: legacyUrl }, target: { table } });
  const legacyJob = await waitForJob(svc.url!, legacy.body.id);
  t.equal(legacyJob.result.filesSkipped, 1, 'a legacy entry (no OID) is matched by name, as before');
  t.same(await sum(), { n: 3, s: 6 });
});

t.test('replace mode: the swapped-in table keeps its ledger entries, so the file is not loaded twice', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start();
  const table = `${h.schema}.swapped`;
  await h.db.query(`CREATE TABLE ${table} (id int, note text)`);
  await h.db.query(`INSERT INTO ${table} VALUES (99, 'old')`);
  const url = await h.put('swap.csv', '1,a\n2,b\n');
  const run = async (extra: Record<string, unknown>) => {
    const res = await postJob(svc.url!, { source: { url }, target: { table }, ...extra });
    t.equal(res.status, 202, JSON.stringify(res.body));
    return waitForJob(svc.url!, res.body.id);
  };
  const rows = async () => (await h.db.query(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id);
  const before = (await h.db.query(`SELECT $1::regclass::oid::text AS oid`, [table])).rows[0].oid;
  const replaced = await run({ mode: 'replace' });
  t.equal(replaced.status, 'succeeded', JSON.stringify(replaced.error));
  t.same(await rows(), [1, 2]);
  const after = (await h.db.query(`SELECT $1::regclass::oid::text AS oid`, [table])).rows[0].oid;
  t.not(after, before, 'the swap put another table under the name');
  const ledger = await h.db.query('SELECT target_oid::text AS oid FROM ingest.file_ledger WHERE target = $1', [`"${h.schema}"."swapped"`]);
  t.same(ledger.rows, [{ oid: after }], 'the entry names the swapped-in table');
  const append = await run({});
  t.equal(append.result.filesSkipped, 1, 'an append of the same file skips it');
  t.same(await rows(), [1, 2]);
  const again = await run({ mode: 'replace' });
  t.equal(again.status, 'succeeded', JSON.stringify(again.error));
  t.same(await rows(), [1, 2], 'a second replace holds the file once');
  const append2 = await run({});
  t.equal(append2.result.filesSkipped, 1, 'and still skips it afterwards');
  t.same(await rows(), [1, 2]);
});

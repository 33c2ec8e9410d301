import t from 'tap';
import { createHash } from 'node:crypto';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';
import { pricePaidCsv, pricePaidRows, ukPriceTableSql } from '../src/gen/pricePaid.js';

t.test('a 200,000-row price-paid object loads with exactly its rows and the run timings', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const rows = 200_000;
  const url = await h.put('price-paid/pp-200k.csv', pricePaidCsv(rows, 7));
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const svc = await h.start();

  const submitted = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.uk_price` } });
  t.equal(submitted.status, 202);
  t.equal(submitted.body.status, 'queued');
  const job = await waitForJob(svc.url!, submitted.body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.progress.rowsLoaded, rows);
  t.equal(job.runs.length, 1);
  const run = job.runs[0];
  t.equal(run.rowsLoaded, rows);
  for (const stage of ['queueWaitMs', 'firstByteMs', 'copyMs', 'commitMs', 'totalMs']) {
    t.type(run.timings[stage], 'number', `run has ${stage}`);
  }
  t.ok(run.rowsPerSecond > 0);
  t.ok(run.samples.length >= 1, `${run.samples.length} progress samples`);
  for (let i = 1; i < run.samples.length; i++) {
    t.ok(run.samples[i][0] >= run.samples[i - 1][0] && run.samples[i][1] >= run.samples[i - 1][1], 'samples only go forward');
  }
  t.ok(run.samples.every((s: number[]) => s[1] <= rows && s[2] <= job.progress.bytesTotal), 'samples within the totals');
  t.same(run.samples.at(-1).slice(1), [rows, job.progress.bytesTotal], 'the last sample holds the final counts');
  t.ok(run.mbPerSecond > 0);

  let priceSum = 0;
  for (const f of pricePaidRows(rows, 7)) priceSum += Number(f[1]);
  const db = await h.db.query(`SELECT count(*)::int AS n, sum(price::bigint)::bigint AS s, count(DISTINCT transaction_unique_identifier)::int AS d FROM ${h.schema}.uk_price`);
  t.same(db.rows[0], { n: rows, s: String(priceSum), d: rows });
});

t.test('every field arrives byte for byte (all-text table, checksum against the source)', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const rows = 5_000;
  const url = await h.put('pp-text.csv', pricePaidCsv(rows, 3));
  const cols = Array.from({ length: 16 }, (_, i) => `c${i + 1} text`).join(', ');
  await h.db.query(`CREATE TABLE ${h.schema}.pp_text (${cols})`);
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.pp_text` }, format: { null: '\\N' } });
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));

  const expected = [...pricePaidRows(rows, 3)]
    .sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0))
    .map((f) => f.join('\x1f'))
    .join('\x1e');
  const list = Array.from({ length: 16 }, (_, i) => `c${i + 1}`).join(', ');
  const { rows: got } = await h.db.query(
    `SELECT md5(string_agg(array_to_string(ARRAY[${list}], E'\\x1f'), E'\\x1e' ORDER BY c1 COLLATE "C")) AS m FROM ${h.schema}.pp_text`,
  );
  t.equal(got[0].m, createHash('md5').update(expected, 'utf8').digest('hex'));
});

// Prefix sources, atomicity "job", and the replace and upsert write modes.
import t from 'tap';
import pg from 'pg';
import { gzipSync } from 'node:zlib';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { pricePaidCsv, ukPriceTableSql } from '../src/gen/pricePaid.js';

async function run(h: Harness, spec: Record<string, unknown>) {
  const svc = await h.start();
  const res = await postJob(svc.url!, spec);
  if (res.status !== 202) throw new Error(JSON.stringify(res.body));
  return waitForJob(svc.url!, res.body.id, undefined, 60_000);
}

const count = async (h: Harness, table: string) => (await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.${table}`)).rows[0].n;

t.test('a Spark output prefix: part files load once each, bookkeeping files never', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const dir = 'spark/pp/';
  let expected = 0;
  for (let i = 0; i < 8; i++) {
    const rows = 500 + i * 10;
    expected += rows;
    const body = Buffer.concat([Buffer.from(`transaction_unique_identifier,price,date_of_transfer,postcode,property_type,Old/New,duration,paon,saon,street,locality,Town/City,district,county,ppdcategory_type,record_status\n`), pricePaidCsv(rows, 200 + i)]);
    if (i < 2) await h.put(`${dir}part-0000${i}.csv.gz`, gzipSync(body));
    else await h.put(`${dir}part-0000${i}.csv`, body);
    await h.put(`${dir}.part-0000${i}.csv.crc`, 'crc');
  }
  await h.put(`${dir}_SUCCESS`, '');
  await h.put(`${dir}_temporary/0/part-00009.csv`, pricePaidCsv(5, 999));
  const job = await run(h, { source: { url: `s3://landing/${dir}`, pattern: 'part-*.csv*' }, format: { header: true }, target: { table: `${h.schema}.uk_price` }, concurrency: 3 });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.filesLoaded, 8);
  t.equal(job.result.rowsLoaded, expected);
  t.equal(job.runs[0].files.length, 8);
  t.ok(job.runs[0].files.every((f: any) => /part-0000\d\.csv(\.gz)?$/.test(f.key) && f.status === 'loaded'));
  t.equal(await count(h, 'uk_price'), expected);
  const dup = await h.db.query(`SELECT count(*)::int AS n FROM (SELECT transaction_unique_identifier FROM ${h.schema}.uk_price GROUP BY 1 HAVING count(*) > 1) d`);
  t.equal(dup.rows[0].n, 0);
});

t.test('atomicity job: a bad second file leaves nothing visible; fixed, everything lands in one publish', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int, b text)`);
  await h.put('batch/a.csv', Array.from({ length: 100 }, (_, i) => `${i},a`).join('\n') + '\n');
  await h.put('batch/b.csv', '100,b\nbad,b\n');
  const spec = { source: { url: 's3://landing/batch/' }, target: { table: `${h.schema}.n` }, atomicity: 'job' };
  const failed = await run(h, spec);
  t.equal(failed.status, 'failed');
  t.equal(failed.error.code, 'DATA_REJECTED');
  t.equal(await count(h, 'n'), 0, 'the first file is not visible either');
  const stages = await h.db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'ingest_stage' AND tablename LIKE $1`, [`stage_${failed.id.replace(/-/g, '')}`]);
  t.equal(stages.rows[0].n, 0, 'the staging table is dropped');
  await h.put('batch/b.csv', '100,b\n101,b\n');
  const ok = await run(h, spec);
  t.equal(ok.status, 'succeeded', JSON.stringify(ok.error));
  t.same(ok.result.published, { mode: 'append', rows: 102 });
  t.equal(await count(h, 'n'), 102);
  const ledger = await h.db.query('SELECT count(*)::int AS n FROM ingest.file_ledger WHERE job_id = $1', [ok.id]);
  t.equal(ledger.rows[0].n, 2);
});

t.test('upsert inserts new keys and updates existing ones in one transaction', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.prices (id int PRIMARY KEY, price int, note text)`);
  await h.db.query(`INSERT INTO ${h.schema}.prices SELECT g, g * 10, 'old' FROM generate_series(1, 10) g`);
  const url = await h.put('up.csv', '5,555,new\n10,1000,new\n11,1100,new\n');
  const job = await run(h, { source: { url }, target: { table: `${h.schema}.prices` }, mode: 'upsert', key: ['id'] });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same(job.result.published, { mode: 'upsert', rows: 3 });
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, sum(price)::int AS s, count(*) FILTER (WHERE note = 'new')::int AS fresh FROM ${h.schema}.prices`);
  t.same(rows[0], { n: 11, s: 550 - 50 - 100 + 555 + 1000 + 1100, fresh: 3 });

  const noKey = await run(h, { source: { url: await h.put('up2.csv', '1,1,x\n') }, target: { table: `${h.schema}.prices` }, mode: 'upsert', key: ['note'] });
  t.equal(noKey.status, 'failed');
  t.equal(noKey.error.code, 'PUBLISH_FAILED');
  t.match(noKey.error.message, /42P10/);
});

t.test('replace swaps the new table in: a reader counting in a loop sees only the old count or the new', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  await h.db.query(`CREATE INDEX ON ${h.schema}.uk_price (postcode)`);
  const first = await run(h, { source: { url: await h.put('v1.csv', pricePaidCsv(30_000, 301)) }, target: { table: `${h.schema}.uk_price` } });
  t.equal(first.status, 'succeeded');
  const reader = new pg.Client({ connectionString: h.config.databaseUrl });
  await reader.connect();
  const seen = new Set<number>();
  let reading = true;
  const loop = (async () => {
    while (reading) seen.add((await reader.query(`SELECT count(*)::int AS n FROM ${h.schema}.uk_price`)).rows[0].n);
  })();
  const job = await run(h, { source: { url: await h.put('v2.csv', pricePaidCsv(20_000, 302)) }, target: { table: `${h.schema}.uk_price` }, mode: 'replace' });
  await new Promise((r) => setTimeout(r, 200));
  reading = false;
  await loop;
  await reader.end();
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same(job.result.published, { mode: 'replace', rows: 20_000 });
  t.same([...seen].sort((a, b) => a - b), [20_000, 30_000], 'only the old and the new count were ever seen');
  t.equal(await count(h, 'uk_price'), 20_000);
  const idx = await h.db.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = $1 AND tablename = 'uk_price'`, [h.schema]);
  t.equal(idx.rows[0].n, 2, 'primary key and index carried over');
  const leftovers = await h.db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'uk_price__ci_%'`, [h.schema]);
  t.equal(leftovers.rows[0].n, 0);
  const ledger = await h.db.query('SELECT job_id FROM ingest.file_ledger WHERE target = $1', [`"${h.schema}"."uk_price"`]);
  t.same(ledger.rows.map((r: any) => r.job_id), [job.id], 'the ledger describes the new table only');
});

t.test('reload: true loads an object the ledger already holds, on purpose', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int)`);
  const url = await h.put('r.csv', '1\n2\n3\n');
  await run(h, { source: { url }, target: { table: `${h.schema}.n` } });
  const skipped = await run(h, { source: { url }, target: { table: `${h.schema}.n` } });
  t.equal(skipped.result.filesSkipped, 1);
  const reloaded = await run(h, { source: { url }, target: { table: `${h.schema}.n` }, reload: true });
  t.equal(reloaded.status, 'succeeded');
  t.equal(reloaded.result.rowsLoaded, 3);
  t.equal(await count(h, 'n'), 6);
});

import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHarness, postJob, SIXTEEN_TEXT_COLUMNS, slowTable, waitForJob } from './helpers/harness.js';
import { pricePaidCsv, ukPriceTableSql } from '../src/gen/pricePaid.js';
import { LARGE_BODY_BYTES } from '../src/sources/s3/source.js';
import { readSourceSettings } from '../src/sources/settings.js';

t.test('a job whose object does not exist fails at once with a clear error and no retries', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url: 's3://landing/no/such/file.csv' }, target: { table: `${h.schema}.uk_price` } });
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'SOURCE_NOT_FOUND');
  t.match(job.error.message, /s3:\/\/landing\/no\/such\/file\.csv does not exist/);
  t.equal(job.runs.length, 1, 'a permanent error is not retried');
  t.equal(job.runs[0].status, 'failed');
  t.equal(job.attempts, 1);
});

t.test('a job whose bucket does not exist names the bucket', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url: 's3://nobucket/file.csv' }, target: { table: `${h.schema}.uk_price` } });
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'SOURCE_NOT_FOUND');
  t.match(job.error.message, /nobucket/);
});

t.test('a job whose table does not exist fails with a clear error and reads nothing', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const url = await h.put('pp.csv', pricePaidCsv(10));
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.missing_table` } });
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'TARGET_NOT_FOUND');
  t.match(job.error.message, new RegExp(`${h.schema}\\.missing_table does not exist`));
  t.equal(job.runs.length, 1);
  t.equal(job.runs[0].bytesRead, 0);
});

t.test('a column list naming an unknown column fails and lists the real columns', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.two (id int, "Name" text)`);
  const url = await h.put('two.csv', '1,a\n');
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.two`, columns: ['id', 'name'] } });
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.error.code, 'TARGET_COLUMN_NOT_FOUND');
  t.match(job.error.message, /did you mean "Name"/);
  t.same(job.error.details.missing, ['name']);
});

t.test('a bad value fails the load with its original line number and leaves the table untouched', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.nums (id int, note text)`);
  await h.db.query(`INSERT INTO ${h.schema}.nums VALUES (0, 'already here')`);
  // Line 3 holds a quoted line break, so record 4 starts on line 5 and the bad record on line 6.
  const body = 'id,note\n1,plain\n2,"two\nlines"\n3,x\nfour,bad\n5,y\n';
  const url = await h.put('nums.csv', body);
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, format: { header: true }, target: { table: `${h.schema}.nums` } });
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'DATA_REJECTED');
  t.equal(job.error.details.line, 6);
  t.equal(job.error.details.column, 'id');
  t.equal(job.error.details.sqlstate, '22P02');
  t.match(job.error.message, /line 6, column id/);
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.nums`);
  t.equal(rows[0].n, 1, 'only the row that was there before');
  const ledger = await h.db.query('SELECT count(*)::int AS n FROM ingest.file_ledger WHERE job_id = $1', [job.id]);
  t.equal(ledger.rows[0].n, 0, 'no ledger entry for a rolled-back file');
});

t.test('a truncated last record fails with the line it starts on', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.pp (${SIXTEEN_TEXT_COLUMNS})`);
  const full = pricePaidCsv(50, 11).toString('utf8');
  const truncated = full.slice(0, full.length - 40); // cut inside the 50th record's quoted fields
  const url = await h.put('cut.csv', truncated);
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.pp` } });
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'DATA_REJECTED');
  t.equal(job.error.details.line, 50);
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.pp`);
  t.equal(rows[0].n, 0);
});

t.test('a line holding only \\. loads as data: no row after it is lost', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.one (v text)`);
  const url = await h.put('dot.csv', 'a\nb\n\\.\nc\nd\n');
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.one` } });
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.progress.rowsLoaded, 5);
  const { rows } = await h.db.query(`SELECT string_agg(v, '|' ORDER BY v COLLATE "C") AS s FROM ${h.schema}.one`);
  t.equal(rows[0].s, '\\.|a|b|c|d');
});

t.test('cancelling a running load aborts the COPY and rolls it back', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  // Sleeping 2 ms per row, the COPY takes long enough to cancel in the middle.
  await slowTable(h, 'slow', 2);
  const url = await h.put('slow.csv', pricePaidCsv(5_000, 5));
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.slow` } });
  const running = await waitForJob(svc.url!, res.body.id, ['running', 'succeeded', 'failed']);
  t.equal(running.status, 'running');
  // Wait until rows are flowing into the table's transaction.
  for (let i = 0; i < 100; i++) {
    const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY %slow%' AND state = 'active'`);
    if (rows[0].n > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const cancel = await fetch(`${svc.url}/jobs/${res.body.id}/cancel`, { method: 'POST' });
  t.equal(cancel.status, 202);
  const job = await waitForJob(svc.url!, res.body.id, ['cancelled', 'succeeded', 'failed'], 20_000);
  t.equal(job.status, 'cancelled');
  t.equal(job.runs.at(-1).status, 'cancelled');
  t.equal(job.runs.at(-1).error.code, 'CANCELLED');
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.slow`);
  t.equal(rows[0].n, 0, 'the aborted COPY left no rows');
  const again = await fetch(`${svc.url}/jobs/${res.body.id}/cancel`, { method: 'POST' });
  t.equal(again.status, 409);
  t.equal(((await again.json()) as any).error.code, 'JOB_NOT_CANCELLABLE');
});

t.test('cancelling a queued job stops it before it starts', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.one (v text)`);
  const url = await h.put('q.csv', 'a\n');
  const api = await h.start('api');
  const res = await postJob(api.url!, { source: { url }, target: { table: `${h.schema}.one` } });
  const cancel = await fetch(`${api.url}/jobs/${res.body.id}/cancel`, { method: 'POST' });
  t.equal(cancel.status, 202);
  t.equal(((await cancel.json()) as any).status, 'cancelled');
  await h.start('worker');
  await new Promise((r) => setTimeout(r, 500));
  const job = await waitForJob(api.url!, res.body.id);
  t.equal(job.status, 'cancelled');
  t.equal(job.runs.length, 0, 'no run started');
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.one`);
  t.equal(rows[0].n, 0);
});

t.test('a bad record early in a large file fails with its line, though bytes were still streaming', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  // The first 1,000 rows are already there: the 1,000th of the file breaks the primary key at once.
  const svc = await h.start();
  const first = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: await h.put('head.csv', pricePaidCsv(1_000, 77)) }, target: { table: `${h.schema}.uk_price` } })).body.id);
  t.equal(first.status, 'succeeded');
  const url = await h.put('big.csv', pricePaidCsv(200_000, 77));
  const job = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.uk_price` } })).body.id);
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'DATA_REJECTED', job.error.message);
  t.equal(job.error.details.sqlstate, '23505');
  t.equal(job.error.details.line, 1);
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.uk_price`)).rows[0].n, 1_000, 'nothing of the failed file');

  const lenient = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.uk_price` }, maxErrors: 1_000, reload: true })).body.id);
  t.equal(lenient.status, 'succeeded', JSON.stringify(lenient.error));
  t.equal(lenient.result.rowsRejected, 1_000);
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.uk_price`)).rows[0].n, 200_000);
});

t.test('an S3 connection cut mid-body fails the run with the bytes it got, and the retry loads each row once', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  // Over LARGE_BODY_BYTES, so the body comes through the project's own HTTP/1.1 GET.
  const csv = Buffer.from(pricePaidCsv(60_000, 5));
  t.ok(csv.length >= LARGE_BODY_BYTES);
  const url = await h.put('cut.csv', csv);
  // A TCP proxy in front of the store: the first GET of cut.csv gets its head and 300,000 bytes, then
  // the store's side of the connection ends; every other connection passes whole.
  let cuts = 0;
  const proxy = net.createServer((client) => {
    const store = net.connect(Number(new URL(h.s3.endpoint).port), '127.0.0.1');
    let cutting = false;
    let sent = 0;
    client.on('error', () => store.destroy());
    store.on('error', () => client.destroy());
    client.on('data', (b) => {
      if (cuts === 0 && /^GET \/landing\/cut\.csv/.test(b.toString('latin1'))) {
        cuts++;
        cutting = true;
      }
      store.write(b);
    });
    store.on('data', (b) => {
      if (!cutting) return void client.write(b);
      const n = Math.min(b.length, 300_000 - sent);
      client.write(b.subarray(0, n));
      sent += n;
      if (sent === 300_000) {
        client.end();
        store.destroy();
      }
    });
    store.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => proxy.close());
  const svc = await h.start('all', { s3Endpoint: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, jobAttempts: 2 });
  const job = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.uk_price` } })).body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(cuts, 1);
  const [first, second] = job.runs;
  t.equal(first.status, 'failed');
  t.equal(first.error.code, 'SOURCE_UNAVAILABLE');
  t.match(first.error.message, new RegExp(`reading ${url} failed mid-stream: .*closed the connection after \\d+ of ${csv.length} body bytes`));
  t.equal(second.status, 'succeeded');
  const { rows: [table] } = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT transaction_unique_identifier)::int AS d FROM ${h.schema}.uk_price`);
  t.same(table, { n: 60_000, d: 60_000 }, 'every row, once');
});

t.test('a bad record early in a large file:// file fails with its line, not as a failure of the file system', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const root = await mkdtemp(path.join(os.tmpdir(), 'failures-file-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const svc = await h.start('all', { sources: readSourceSettings({ LOCAL_SOURCE_ROOTS: root }) });
  await writeFile(path.join(root, 'head.csv'), pricePaidCsv(1_000, 77));
  await writeFile(path.join(root, 'big.csv'), pricePaidCsv(200_000, 77));
  const load = async (name: string): Promise<any> =>
    waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: `file://${root}/${name}` }, target: { table: `${h.schema}.uk_price` } })).body.id);
  t.equal((await load('head.csv')).status, 'succeeded');
  const job = await load('big.csv');
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'DATA_REJECTED', job.error.message);
  t.equal(job.error.details.line, 1);
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.uk_price`)).rows[0].n, 1_000, 'nothing of the failed file');
});

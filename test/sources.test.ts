// Spark/Hadoop outputs, markers and manifests, the bucket allow-list, schedules and completion callbacks.
import t from 'tap';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { createHarness, postJob, slowTable, waitForJob, type Harness } from './helpers/harness.js';
import { pricePaidCsv } from '../src/gen/pricePaid.js';

const count = async (h: Harness, table: string) => (await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.${table}`)).rows[0].n;

t.test('a job waiting for _SUCCESS starts loading only once the marker appears', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int, b text)`);
  await h.put('out/part-00000.csv', '1,a\n2,b\n');
  await h.put('out/_temporary/0/part-00001.csv', '3,c\n'); // still being written
  const svc = await h.start();
  const { body } = await postJob(svc.url!, { source: { url: 's3://landing/out/', waitForMarker: '_SUCCESS' }, target: { table: `${h.schema}.n` } });
  await new Promise((r) => setTimeout(r, 2000));
  t.equal(await count(h, 'n'), 0, 'nothing loaded before the marker');
  const waiting = await waitForJob(svc.url!, body.id, ['running', 'succeeded', 'failed']);
  t.equal(waiting.status, 'running', 'the job is waiting');
  await h.put('out/part-00001.csv', '3,c\n');
  await h.put('out/_SUCCESS', '');
  const job = await waitForJob(svc.url!, body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.ok(job.runs[0].timings.markerWaitMs >= 1500, `waited ${job.runs[0].timings.markerWaitMs} ms for the marker`);
  t.equal(await count(h, 'n'), 3);

  const { body: late } = await postJob(svc.url!, { source: { url: 's3://landing/never/', waitForMarker: '_SUCCESS', markerTimeoutSeconds: 1 }, target: { table: `${h.schema}.n` } });
  const timedOut = await waitForJob(svc.url!, late.id);
  t.equal(timedOut.status, 'failed');
  t.equal(timedOut.error.code, 'MARKER_TIMEOUT');
});

t.test('a manifest in _SUCCESS names exactly the files to load; a missing one fails clearly', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int)`);
  await h.put('m/part-00000.csv', '1\n2\n');
  await h.put('m/part-00001.csv', '3\n');
  await h.put('m/part-00002.csv', '99\n'); // a leftover of an earlier attempt, not committed
  await h.put('m/_SUCCESS', JSON.stringify({ name: 'org.apache.hadoop.fs.s3a.commit.files.SuccessData/1', committer: 'magic', filenames: ['/m/part-00000.csv', 's3a://landing/m/part-00001.csv'] }));
  const svc = await h.start();
  const ok = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: 's3://landing/m/', waitForMarker: '_SUCCESS' }, target: { table: `${h.schema}.n` } })).body.id);
  t.equal(ok.status, 'succeeded', JSON.stringify(ok.error));
  t.equal(ok.result.filesLoaded, 2);
  const { rows } = await h.db.query(`SELECT sum(a)::int AS s FROM ${h.schema}.n`);
  t.equal(rows[0].s, 6, 'only the files the manifest names');

  await h.put('x/part-00000.csv', '1\n');
  await h.put('x/_SUCCESS', JSON.stringify({ filenames: ['x/part-00000.csv', 'x/part-00001.csv'] }));
  const bad = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: 's3://landing/x/', waitForMarker: '_SUCCESS' }, target: { table: `${h.schema}.n` } })).body.id);
  t.equal(bad.status, 'failed');
  t.equal(bad.error.code, 'MANIFEST_FILE_MISSING');
  t.match(bad.error.message, /x\/part-00001\.csv/);
  t.equal(await count(h, 'n'), 3, 'nothing of the failed job loaded');
});

t.test('a MapReduce streaming output (tab-separated part-00000, no header) loads with delimiter \\t', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.wc (word text, n int)`);
  await h.put('wc/part-00000', 'apple\t3\nbanana, split\t5\n');
  await h.put('wc/part-00001', 'cherry\t7\n');
  await h.put('wc/_SUCCESS', '');
  const svc = await h.start();
  const job = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: 's3://landing/wc/', pattern: 'part-*' }, format: { delimiter: '\t' }, target: { table: `${h.schema}.wc` } })).body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const { rows } = await h.db.query(`SELECT string_agg(word || '=' || n, ';' ORDER BY word) AS s FROM ${h.schema}.wc`);
  t.equal(rows[0].s, 'apple=3;banana, split=5;cherry=7');
});

t.test('a bucket outside S3_ALLOWED_BUCKETS is refused with 403 before any request', async (t) => {
  const h = await createHarness({ s3AllowedBuckets: ['landing'] });
  t.teardown(() => h.close());
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url: 's3://secrets/payroll.csv' }, target: { table: `${h.schema}.x` } });
  t.equal(res.status, 403);
  t.equal(res.body.error.code, 'SOURCE_FORBIDDEN');
  t.equal(res.body.error.details.field, '/source/url');
  const ok = await postJob(svc.url!, { source: { url: 's3://landing/a.csv' }, target: { table: `${h.schema}.x` } });
  t.equal(ok.status, 202);
});

t.test('a schedule ticking twice loads only the file added between ticks', async (t) => {
  const h = await createHarness({ scheduleMinIntervalSeconds: 1 });
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int)`);
  await h.put('inc/part-00000.csv', '1\n2\n');
  const svc = await h.start();
  const name = `inc-${h.schema}`;
  const bad = await fetch(`${svc.url}/schedules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, everySeconds: 2, job: { source: { url: 's3://landing/inc/' }, target: { table: `${h.schema}.n` }, maxErrors: -1 } }) });
  t.equal(bad.status, 400);
  const created = await fetch(`${svc.url}/schedules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, everySeconds: 2, job: { source: { url: 's3://landing/inc/' }, target: { table: `${h.schema}.n` } } }),
  });
  t.equal(created.status, 201);
  const jobsOf = async () => ((await (await fetch(`${svc.url}/jobs?schedule=${name}&limit=50`)).json()) as any).jobs;
  const waitJobs = async (n: number) => {
    for (let i = 0; i < 200; i++) {
      const jobs = await jobsOf();
      if (jobs.length >= n && jobs.slice(0, n).every((j: any) => ['succeeded', 'failed'].includes(j.status))) return jobs;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`fewer than ${n} finished jobs from the schedule`);
  };
  const first = await waitJobs(1);
  t.equal(first.at(-1).status, 'succeeded');
  t.equal(await count(h, 'n'), 2);
  await h.put('inc/part-00001.csv', '3\n');
  let jobs = await waitJobs(2);
  // Ticks after the new file: exactly one of them loaded it, the rest skipped everything.
  for (let i = 0; i < 50 && (await count(h, 'n')) < 3; i++) {
    await new Promise((r) => setTimeout(r, 200));
  }
  jobs = await waitJobs(2);
  const details = await Promise.all(jobs.map(async (j: any) => (await (await fetch(`${svc.url}/jobs/${j.id}`)).json()) as any));
  const finished = details.filter((j) => j.status === 'succeeded');
  const loaders = finished.filter((j) => j.result.filesLoaded > 0);
  t.same(loaders.map((j) => j.result.filesLoaded), [1, 1], 'one tick loaded the first file, one the second');
  t.equal(await count(h, 'n'), 3, 'every row once');
  const list = (await (await fetch(`${svc.url}/schedules`)).json()) as any;
  t.ok(list.schedules.some((s: any) => s.name === name && s.nextRunAt), 'listed with its next run');
  const del = await fetch(`${svc.url}/schedules/${name}`, { method: 'DELETE' });
  t.equal(del.status, 204);
  const gone = await fetch(`${svc.url}/schedules/${name}`);
  t.equal(gone.status, 404);
});

t.test('notify.url receives the final job, signed, and is retried after a failure', async (t) => {
  const secret = 'a-shared-secret-for-tests';
  const h = await createHarness({ notifySecret: secret });
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int)`);
  const url = await h.put('n.csv', '1\n2\n3\n');
  const received: Array<{ body: string; signature: string | undefined }> = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ body, signature: req.headers['x-citus-ingest-signature'] as string | undefined });
      res.statusCode = received.length === 1 ? 500 : 204; // the first delivery fails
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => hook.close(() => r())));
  const port = (hook.address() as { port: number }).port;
  const svc = await h.start('all', { notifyAllowedHosts: [`127.0.0.1:${port}`] });
  const job = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.n` }, notify: { url: `http://127.0.0.1:${port}/hook` } })).body.id);
  t.equal(job.status, 'succeeded');
  for (let i = 0; i < 100 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  t.equal(received.length, 2, 'delivered again after a 500');
  const last = received[1]!;
  const payload = JSON.parse(last.body);
  t.equal(payload.job.id, job.id);
  t.equal(payload.job.status, 'succeeded');
  t.equal(payload.job.result.rowsLoaded, 3);
  t.type(payload.job.runs[0].timings.copyMs, 'number');
  t.equal(last.signature, `sha256=${createHmac('sha256', secret).update(last.body).digest('hex')}`);
  t.ok(Math.abs(payload.timestamp - Date.now() / 1000) < 120, 'the signed body carries the delivery time');
});

t.test('WORKER_MAX_OBJECTS caps the objects a worker loads at once, whatever each job asks', async (t) => {
  const h = await createHarness({ workerMaxObjects: 1 });
  t.teardown(() => h.close());
  await slowTable(h, 'slow', 2, 'a int');
  for (let i = 0; i < 3; i++) await h.put(`cap/part-${i}.csv`, Array.from({ length: 150 }, (_, k) => String(i * 1000 + k)).join('\n') + '\n');
  const svc = await h.start();
  const { body } = await postJob(svc.url!, { source: { url: 's3://landing/cap/' }, target: { table: `${h.schema}.slow` }, concurrency: 3 });
  let most = 0;
  let job: any;
  for (;;) {
    const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE $1 AND state = 'active'`, [`COPY "${h.schema}"."slow"%`]);
    most = Math.max(most, rows[0].n);
    job = await (await fetch(`${svc.url}/jobs/${body.id}`)).json();
    if (['succeeded', 'failed'].includes(job.status)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(most, 1, 'never more than one COPY at a time');
  t.equal(await count(h, 'slow'), 450);
});

t.test('a job asking for more objects at once than the worker has connections still loads every file', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  // WORKER_CONCURRENCY 1: a pool of 6 connections, against 8 objects at once (WORKER_MAX_OBJECTS 8).
  await slowTable(h, 'many', 1, 'a int');
  const files = 24;
  for (let i = 0; i < files; i++) await h.put(`many/part-${String(i).padStart(5, '0')}.csv`, Array.from({ length: 200 }, (_, k) => String(i * 1000 + k)).join('\n') + '\n');
  const svc = await h.start('all', { workerConcurrency: 1, workerMaxObjects: 8 });
  const { body } = await postJob(svc.url!, { source: { url: 's3://landing/many/' }, target: { table: `${h.schema}.many` }, concurrency: 8 });
  const job = await waitForJob(svc.url!, body.id, undefined, 120_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.runs.length, 1, 'in one run, without a retry');
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT a)::int AS d FROM ${h.schema}.many`);
  t.same(rows[0], { n: files * 200, d: files * 200 });
});

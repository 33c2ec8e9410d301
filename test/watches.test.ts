// /watches against the real service: a watch is refused as its job would be; it is listed, read and
// deleted; with pollSeconds its listing loads what a lost event would have; an event for an object
// that is not there yet fails its load clearly, and the object's next event (or listing) loads it.
import t from 'tap';
import { createHash } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { createHarness, waitForJob, type Harness } from './helpers/harness.js';
import { createQueue } from '../src/queue/queue.js';
import { postEvent, postWatch, s3Notification, s3Record } from './helpers/events.js';

const rows = (first: number, n: number): string => Array.from({ length: n }, (_, k) => `${first + k},row ${first + k}\n`).join('');
const sumTo = (n: number): string => String((n * (n + 1)) / 2);

async function counts(h: Harness, table: string): Promise<{ n: number; ids: number; sum: string }> {
  return (await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, coalesce(sum(id), 0)::bigint::text AS sum FROM ${table}`)).rows[0];
}

async function jobsOf(h: Harness): Promise<Array<{ id: string; source_url: string; status: string }>> {
  return (await h.db.query('SELECT id, source_url, status FROM ingest.jobs WHERE queue = $1 ORDER BY created_at', [h.config.queueName])).rows;
}

async function recordFor(h: Harness, key: string): Promise<object> {
  const head = await h.s3Client.send(new HeadObjectCommand({ Bucket: h.bucket, Key: key }));
  return s3Record(h.bucket, key, head.ETag!.replace(/"/g, ''));
}

t.test('a watch whose job would be refused is refused when created, and stored nowhere', async (t) => {
  const h = await createHarness({ s3AllowedBuckets: ['landing'] });
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.t (id int, note text)`);
  const svc = await h.start();
  const target = { table: `${h.schema}.t` };
  const refused = async (watch: object, status: number, code: string, field: string) => {
    const res = await postWatch(svc.url!, watch);
    t.equal(res.status, status, JSON.stringify(res.body));
    t.equal(res.body.error?.code, code);
    t.equal(res.body.error?.details?.field, field);
  };
  await refused({ name: 'outside', prefix: 's3://secrets/out/', job: { target } }, 403, 'SOURCE_FORBIDDEN', '/prefix');
  await refused({ name: 'ours', prefix: 's3://landing/out/', job: { target: { table: 'ingest.jobs' } } }, 400, 'TARGET_FORBIDDEN', '/job/target/table');
  await refused({ name: 'merge', prefix: 's3://landing/out/', job: { target, mode: 'merge' } }, 400, 'INVALID_SPEC', '/job/key');
  await refused({ name: 'url', prefix: 's3://landing/out/', job: { target, source: { url: 's3://landing/x.csv' } } }, 400, 'INVALID_SPEC', '/job/source/url');
  await refused({ name: 'often', prefix: 's3://landing/out/', pollSeconds: 5, job: { target } }, 400, 'SCHEDULE_INTERVAL_TOO_SHORT', '/pollSeconds');
  await refused({ name: 'file', prefix: 's3://landing/one.csv', job: { target } }, 400, 'INVALID_SPEC', '/prefix');
  await refused({ name: 'marker', prefix: 's3://landing/out/', on: 'object', marker: '_DONE', job: { target } }, 400, 'INVALID_SPEC', '/marker');
  const { rows } = await h.db.query('SELECT count(*)::int AS n FROM ingest.watches WHERE queue = $1', [h.config.queueName]);
  t.equal(rows[0].n, 0, 'no watch stored');
});

t.test('watches are listed, read and deleted; a deleted watch starts nothing', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.t (id int, note text)`);
  const svc = await h.start();
  const job = { target: { table: `${h.schema}.t` } };
  t.equal((await postWatch(svc.url!, { name: 'b-objects', prefix: 's3://landing/b/', on: 'object', job })).status, 201);
  t.equal((await postWatch(svc.url!, { name: 'a-spark', prefix: 's3://landing/a/', marker: '_DONE', job })).status, 201);
  const replaced = await postWatch(svc.url!, { name: 'b-objects', prefix: 's3://landing/b2/', on: 'object', job, secret: 'a-secret-of-the-users-own-choice' });
  t.equal(replaced.status, 200, 'posting the name again replaces it');
  t.equal(replaced.body.secret, undefined, 'a secret the request gave is not echoed');
  const doc = (await (await fetch(`${svc.url}/docs/json`)).json()) as any;
  for (const [method, path] of [['post', '/watches'], ['get', '/watches'], ['get', '/watches/{name}'], ['delete', '/watches/{name}'], ['post', '/events/{provider}'], ['post', '/events/{provider}/{watch}'], ['options', '/events/azure']]) {
    t.ok(doc.paths?.[path!]?.[method!]?.summary, `${method!.toUpperCase()} ${path} is documented`);
  }
  t.ok(doc.paths['/watches'].post.requestBody.content['application/json'].schema.properties.job.properties.target, 'with the job spec a watch takes');
  const list = (await (await fetch(`${svc.url}/watches`)).json()) as any;
  t.same(list.watches.map((w: any) => [w.name, w.prefix, w.on, w.marker]), [['a-spark', 's3://landing/a/', 'marker', '_DONE'], ['b-objects', 's3://landing/b2/', 'object', null]]);
  t.same(list.watches[1].eventPaths, { s3: '/events/s3/b-objects', gcs: '/events/gcs/b-objects', azure: '/events/azure/b-objects' });

  await h.put('b2/x.csv', rows(1, 3));
  const bySecret = await postEvent(`${svc.url}/events/s3/b-objects?secret=a-secret-of-the-users-own-choice`, s3Notification([await recordFor(h, 'b2/x.csv')]));
  t.equal(bySecret.status, 200, 'the replacing request\'s secret works');
  t.equal((await waitForJob(svc.url!, bySecret.body.jobs[0].id)).status, 'succeeded');

  const del = await fetch(`${svc.url}/watches/b-objects`, { method: 'DELETE' });
  t.equal(del.status, 204);
  const gone = await fetch(`${svc.url}/watches/b-objects`);
  t.equal(gone.status, 404);
  t.equal(((await gone.json()) as any).error.code, 'WATCH_NOT_FOUND');
  t.equal((await fetch(`${svc.url}/watches/b-objects`, { method: 'DELETE' })).status, 404);
  await h.put('b2/y.csv', rows(4, 3));
  const after = await postEvent(`${svc.url}/events/s3`, s3Notification([await recordFor(h, 'b2/y.csv')]));
  t.same(after.body, { received: 1, matched: 0, ignored: 1, jobs: [] }, 'no watch holds the prefix any more');
  t.same(await counts(h, `${h.schema}.t`), { n: 3, ids: 3, sum: sumTo(3) });
});

t.test('a lost event is picked up by the watch\'s listing; what an event started is not started again', async (t) => {
  const h = await createHarness({ scheduleMinIntervalSeconds: 1 });
  t.teardown(() => h.close());
  const table = `${h.schema}.polled`;
  await h.db.query(`CREATE TABLE ${table} (id int, note text)`);
  const svc = await h.start();
  const created = await postWatch(svc.url!, { name: 'polled', prefix: 's3://landing/p/', on: 'object', pollSeconds: 2, job: { target: { table } } });
  t.equal(created.status, 201, JSON.stringify(created.body));
  // Its first listing runs at once, on an empty prefix.
  await new Promise((r) => setTimeout(r, 500));
  await h.put('p/evented.csv', rows(1, 10));
  const evented = await postEvent(`${svc.url}/events/s3`, s3Notification([await recordFor(h, 'p/evented.csv')]));
  t.equal(evented.body.jobs.length, 1);
  // This one's event is lost.
  await h.put('p/lost.csv', rows(11, 10));
  const deadline = Date.now() + 30_000;
  while ((await jobsOf(h)).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  // Two more listings: neither starts anything again.
  await new Promise((r) => setTimeout(r, 4500));
  const jobs = await jobsOf(h);
  t.same(jobs.map((j) => j.source_url).sort(), ['s3://landing/p/evented.csv', 's3://landing/p/lost.csv'], 'one job per object');
  for (const j of jobs) t.equal((await waitForJob(svc.url!, j.id)).status, 'succeeded');
  t.same(await counts(h, table), { n: 20, ids: 20, sum: sumTo(20) }, 'every row once');
  const watch = (await (await fetch(`${svc.url}/watches/polled`)).json()) as any;
  const foundBy = Object.fromEntries(watch.jobs.map((j: any) => [j.url, j.foundBy]));
  t.equal(foundBy['s3://landing/p/lost.csv'], 'listing', 'the run says a listing found it');
  t.equal(watch.jobsStarted, 2);
  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  t.match(metrics, /citus_ingest_watch_jobs_started_total\{watch="polled",found_by="listing"\} 1/);

  t.equal((await fetch(`${svc.url}/watches/polled`, { method: 'DELETE' })).status, 204);
  const queue = createQueue(h.config);
  t.teardown(() => queue.close());
  const schedulers = await queue.getJobSchedulers();
  t.same(schedulers.filter((s) => (s.key ?? s.name).startsWith('watch:')), [], 'deleting the watch stops its listing');
});

t.test('an event for an object that is not there yet fails its load clearly; the next event for it loads it', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.early`;
  await h.db.query(`CREATE TABLE ${table} (id int, note text)`);
  const svc = await h.start();
  t.equal((await postWatch(svc.url!, { name: 'early', prefix: 's3://landing/e/', on: 'object', job: { target: { table } } })).status, 201);
  const body = rows(1, 7);
  // The event names the version the object will have (its MD5, S3's ETag of a single PUT).
  const record = s3Record(h.bucket, 'e/soon.csv', createHash('md5').update(body).digest('hex'));
  const early = await postEvent(`${svc.url}/events/s3`, s3Notification([record]));
  const failed = await waitForJob(svc.url!, early.body.jobs[0].id);
  t.equal(failed.status, 'failed');
  t.equal(failed.error.code, 'SOURCE_NOT_FOUND');
  t.match(failed.error.message, 's3://landing/e/soon.csv');

  await h.put('e/soon.csv', body);
  t.same(await recordFor(h, 'e/soon.csv').then((r: any) => r.s3.object.eTag), (record as any).s3.object.eTag, 'the version the event named');
  const redelivered = await postEvent(`${svc.url}/events/s3`, s3Notification([record]));
  const second = redelivered.body.jobs[0];
  t.equal(second.created, true, 'a new job, after the one that found nothing');
  t.equal((await waitForJob(svc.url!, second.id)).status, 'succeeded');
  const again = await postEvent(`${svc.url}/events/s3`, s3Notification([record]));
  t.same([again.body.jobs[0].id, again.body.jobs[0].created], [second.id, false], 'and that one stands');
  t.same(await counts(h, table), { n: 7, ids: 7, sum: sumTo(7) });
});

t.test('a watch whose job the submit path now refuses answers the event with the reason and blocks no other watch', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  // Type names are unqualified in a spec: this one lives in public, under this test's own name.
  const mood = `mood_${h.schema}`;
  await h.db.query(`CREATE TYPE public.${mood} AS ENUM ('ok', 'meh')`);
  t.teardown(() => h.db.query(`DROP TYPE IF EXISTS public.${mood}`).catch(() => {}));
  await h.db.query(`CREATE TABLE ${h.schema}.t (id int, note text)`);
  const svc = await h.start();
  const created = { table: `${h.schema}.created_later`, create: { columns: [{ name: 'id', type: 'int' }, { name: 'mood', type: mood }] } };
  const typedWatch = await postWatch(svc.url!, { name: 'typed', prefix: 's3://landing/same/', on: 'object', job: { target: created } });
  t.equal(typedWatch.status, 201, JSON.stringify(typedWatch.body));
  t.equal((await postWatch(svc.url!, { name: 'plain', prefix: 's3://landing/same/', on: 'object', job: { target: { table: `${h.schema}.t` } } })).status, 201);
  await h.db.query(`DROP TYPE public.${mood}`);
  await h.put('same/x.csv', rows(1, 4));
  const res = await postEvent(`${svc.url}/events/s3`, s3Notification([await recordFor(h, 'same/x.csv')]));
  t.equal(res.status, 200, 'nothing a retry would change: accepted');
  t.same(res.body.refused.map((r: any) => [r.watch, r.error.code]), [['typed', 'TARGET_DEFINITION_INVALID']]);
  t.same(res.body.jobs.map((j: any) => j.watch), ['plain'], 'the other watch started its job');
  t.equal((await waitForJob(svc.url!, res.body.jobs[0].id)).status, 'succeeded');
  t.same(await counts(h, `${h.schema}.t`), { n: 4, ids: 4, sum: sumTo(4) });
  const typed = (await (await fetch(`${svc.url}/watches/typed`)).json()) as any;
  t.equal(typed.events.lastEvent.refused.code, 'TARGET_DEFINITION_INVALID', 'the watch shows why');
  t.equal(typed.jobsStarted, 0);
});

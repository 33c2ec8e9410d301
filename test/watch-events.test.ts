// Watches fed by S3 event notifications (S3 and MinIO records, EventBridge), against the real service
// and the embedded S3 store: a marker watch loads a Spark output once its _SUCCESS event comes and not
// before; duplicate and concurrent events start one job; an object watch loads each new object once;
// events no watch holds are counted as ignored; events without valid auth get 401.
import t from 'tap';
import { Writable } from 'node:stream';
import { createLogger } from '../src/log.js';
import { startService } from '../src/service.js';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { createHarness, waitForJob, type Harness } from './helpers/harness.js';
import { eventBridgeEvent, postEvent, postWatch, s3Notification, s3Record } from './helpers/events.js';

const rows = (first: number, n: number): string => Array.from({ length: n }, (_, k) => `${first + k},row ${first + k}\n`).join('');
const sumTo = (n: number): string => String((n * (n + 1)) / 2);

async function etagOf(h: Harness, key: string): Promise<string> {
  const head = await h.s3Client.send(new HeadObjectCommand({ Bucket: h.bucket, Key: key }));
  return head.ETag!.replace(/"/g, '');
}

/** Puts an object and returns its S3 event record. */
async function putWithRecord(h: Harness, key: string, body: string, minio = false): Promise<object> {
  await h.put(key, body);
  return s3Record(h.bucket, key, await etagOf(h, key), { minio });
}

async function table(h: Harness, name: string): Promise<string> {
  await h.db.query(`CREATE TABLE ${h.schema}.${name} (id int, note text)`);
  return `${h.schema}.${name}`;
}

async function counts(h: Harness, table: string): Promise<{ n: number; ids: number; sum: string }> {
  return (await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, coalesce(sum(id), 0)::bigint::text AS sum FROM ${table}`)).rows[0];
}

async function jobsOf(h: Harness): Promise<Array<{ id: string; source_url: string }>> {
  return (await h.db.query('SELECT id, source_url FROM ingest.jobs WHERE queue = $1 ORDER BY created_at', [h.config.queueName])).rows;
}

/** A job's status once it has ended, read from the database (the API would want the token). */
async function endedStatus(h: Harness, id: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows: [job] } = await h.db.query('SELECT status FROM ingest.jobs WHERE id = $1', [id]);
    if (['succeeded', 'failed', 'cancelled'].includes(job.status) || Date.now() > deadline) return job.status;
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('a marker watch loads a Spark output once its _SUCCESS event arrives, and part events alone start nothing', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const target = await table(h, 'spark');
  const svc = await h.start();
  const created = await postWatch(svc.url!, { name: 'spark-out', prefix: 's3://landing/spark/', on: 'marker', job: { target: { table: target } } });
  t.equal(created.status, 201, JSON.stringify(created.body));
  t.equal(created.body.marker, '_SUCCESS', 'the marker defaults to Spark\'s');

  // MinIO's webhook: one record a request, the key URL-encoded.
  const parts = [];
  for (let i = 0; i < 3; i++) parts.push(await putWithRecord(h, `spark/run1/part-0000${i}.csv`, rows(1 + i * 100, 100), true));
  await h.put('spark/run1/.part-00000.csv.crc', 'crc');
  for (const record of parts) {
    const res = await postEvent(`${svc.url}/events/s3`, s3Notification([record], true));
    t.equal(res.status, 200, JSON.stringify(res.body));
    t.same([res.body.matched, res.body.jobs.length], [1, 0], 'a part event is matched and starts nothing');
  }
  await new Promise((r) => setTimeout(r, 1000));
  t.same(await jobsOf(h), [], 'no job before the marker');
  t.same(await counts(h, target), { n: 0, ids: 0, sum: '0' }, 'no rows before the marker');

  // The marker's event, delivered twice (at least once): one job.
  const marker = await putWithRecord(h, 'spark/run1/_SUCCESS', '', true);
  const first = await postEvent(`${svc.url}/events/s3`, s3Notification([marker], true));
  const again = await postEvent(`${svc.url}/events/s3`, s3Notification([marker], true));
  t.equal(first.body.jobs.length, 1);
  t.equal(first.body.jobs[0].created, true);
  t.equal(again.body.jobs[0].id, first.body.jobs[0].id, 'the same event again names the same job');
  t.equal(again.body.jobs[0].created, false, 'and starts nothing');
  const job = await waitForJob(svc.url!, first.body.jobs[0].id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.spec.source.url, 's3://landing/spark/run1/', 'the directory holding the marker');
  t.equal(job.result.filesLoaded, 3, 'every part file');
  t.same(await counts(h, target), { n: 300, ids: 300, sum: sumTo(300) }, 'every row once');

  const watch = (await (await fetch(`${svc.url}/watches/spark-out`)).json()) as any;
  t.same(watch.events, { ...watch.events, received: 5, matched: 5, ignored: 0 }, 'five events, all matched');
  t.equal(watch.jobsStarted, 1);
  t.same(watch.jobs.map((j: any) => [j.id, j.foundBy, j.status]), [[job.id, 'event:s3', 'succeeded']]);
  t.match(watch.events.lastEvent, { provider: 's3', key: 'spark/run1/_SUCCESS' });
  const ui = await (await fetch(`${svc.url}/ui/watches`)).text();
  const row = /<tr data-watch="spark-out">[\s\S]*?<\/tr>/.exec(ui)?.[0] ?? '';
  t.match(row, /<code>s3:\/\/landing\/spark\/<\/code>/, '/ui/watches lists the watch');
  t.same(['received', 'matched', 'ignored', 'started'].map((c) => new RegExp(`class="num ${c}">(\\d+)<`).exec(row)?.[1]), ['5', '5', '0', '1'], 'with its counters');
  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  t.match(metrics, /citus_ingest_watch_events_total\{watch="spark-out",outcome="matched"\} 5/);
  t.match(metrics, /citus_ingest_watch_jobs_started_total\{watch="spark-out",found_by="event:s3"\} 1/);
});

t.test('50 part events and repeated marker events delivered at once leave every row once and one job per marker', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const target = await table(h, 'burst');
  const svc = await h.start();
  t.equal((await postWatch(svc.url!, { name: 'burst', prefix: 's3://landing/out/', on: 'marker', job: { target: { table: target } } })).status, 201);
  const events: object[] = [];
  for (const day of ['2024-01-01', '2024-01-02']) {
    for (let i = 0; i < 25; i++) {
      const first = (day === '2024-01-01' ? 0 : 2500) + i * 100 + 1;
      events.push(await putWithRecord(h, `out/day=${day}/part-${String(i).padStart(5, '0')}.csv`, rows(first, 100)));
    }
    const marker = await putWithRecord(h, `out/day=${day}/_SUCCESS`, '');
    events.push(marker, marker, marker);
  }
  const answers = await Promise.all(events.map((record) => postEvent(`${svc.url}/events/s3`, s3Notification([record]))));
  t.same([...new Set(answers.map((a) => a.status))], [200], 'every delivery accepted');
  const started = answers.flatMap((a) => a.body.jobs).filter((j: any) => j.created);
  t.equal(started.length, 2, 'one job per marker');
  t.equal(new Set(answers.flatMap((a) => a.body.jobs.map((j: any) => j.id))).size, 2, 'every marker event names its marker\'s job');
  for (const j of started) t.equal((await waitForJob(svc.url!, j.id)).status, 'succeeded');
  t.same(await counts(h, target), { n: 5000, ids: 5000, sum: sumTo(5000) }, 'every row of both days once');
  t.same((await jobsOf(h)).map((j) => j.source_url).sort(), ['s3://landing/out/day=2024-01-01/', 's3://landing/out/day=2024-01-02/']);
  const { rows: [w] } = await h.db.query('SELECT events_received, events_matched, jobs_started FROM ingest.watches WHERE queue = $1 AND name = $2', [h.config.queueName, 'burst']);
  t.same(w, { events_received: 56, events_matched: 56, jobs_started: 2 });
});

t.test('an object watch loads each new object once, from S3 records and EventBridge events alike', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const target = await table(h, 'drops');
  const svc = await h.start();
  t.equal((await postWatch(svc.url!, { name: 'drops', prefix: 's3://landing/drop/', on: 'object', job: { target: { table: target }, source: { pattern: '*.csv' } } })).status, 201);
  const a = await putWithRecord(h, 'drop/a.csv', rows(1, 10));
  const b = await putWithRecord(h, 'drop/with space.csv', rows(11, 10));
  await h.put('drop/c.csv', rows(21, 10));
  const bridge = eventBridgeEvent(h.bucket, 'drop/c.csv', await etagOf(h, 'drop/c.csv'));
  const skipped = await putWithRecord(h, 'drop/readme.txt', 'not data');
  const crc = await putWithRecord(h, 'drop/.a.csv.crc', 'crc');

  const answers = await Promise.all([
    postEvent(`${svc.url}/events/s3`, s3Notification([a, b])),
    postEvent(`${svc.url}/events/s3`, s3Notification([a])),
    postEvent(`${svc.url}/events/s3`, bridge),
    postEvent(`${svc.url}/events/s3`, bridge),
    postEvent(`${svc.url}/events/s3`, s3Notification([skipped, crc])),
  ]);
  t.same(answers.map((x) => x.status), [200, 200, 200, 200, 200]);
  t.same(answers[4]!.body, { received: 2, matched: 0, ignored: 2, jobs: [] }, 'outside the pattern, and bookkeeping: ignored');
  const jobs = await jobsOf(h);
  t.same(jobs.map((j) => j.source_url).sort(), ['s3://landing/drop/a.csv', 's3://landing/drop/c.csv', 's3://landing/drop/with space.csv'], 'one job per object, the + decoded');
  for (const j of jobs) t.equal((await waitForJob(svc.url!, j.id)).status, 'succeeded');
  t.same(await counts(h, target), { n: 30, ids: 30, sum: sumTo(30) });
  const { rows: [w] } = await h.db.query('SELECT events_received, events_matched, events_ignored, jobs_started FROM ingest.watches WHERE queue = $1 AND name = $2', [h.config.queueName, 'drops']);
  t.same(w, { events_received: 7, events_matched: 5, events_ignored: 2, jobs_started: 3 });
});

t.test('an event for a prefix no watch holds is accepted and counted as ignored; a malformed one is a 400', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const target = await table(h, 'quiet');
  const svc = await h.start();
  t.equal((await postWatch(svc.url!, { name: 'quiet', prefix: 's3://landing/watched/', on: 'object', job: { target: { table: target } } })).status, 201);
  const unwatched = (text: string) => Number(/citus_ingest_events_unwatched_total\{provider="s3"\} (\d+)/.exec(text)?.[1]);
  const before = unwatched(await (await fetch(`${svc.url}/metrics`)).text());
  const elsewhere = await putWithRecord(h, 'elsewhere/x.csv', rows(1, 5));
  const res = await postEvent(`${svc.url}/events/s3`, s3Notification([elsewhere]));
  t.equal(res.status, 200, 'accepted, so the sender does not retry it');
  t.same(res.body, { received: 1, matched: 0, ignored: 1, jobs: [] });
  t.equal(unwatched(await (await fetch(`${svc.url}/metrics`)).text()), before + 1, 'counted as ignored');
  // A deletion under the watched prefix: the watch counts it as ignored.
  const removed = await postEvent(`${svc.url}/events/s3`, s3Notification([s3Record(h.bucket, 'watched/y.csv', '', { eventName: 'ObjectRemoved:Delete' })]));
  t.same(removed.body, { received: 1, matched: 0, ignored: 1, jobs: [] });
  const watch = (await (await fetch(`${svc.url}/watches/quiet`)).json()) as any;
  t.same([watch.events.received, watch.events.matched, watch.events.ignored], [1, 0, 1]);
  t.same(await jobsOf(h), [], 'no job');

  const malformed = await postEvent(`${svc.url}/events/s3`, { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: {} } }] });
  t.equal(malformed.status, 400);
  t.equal(malformed.body.error.code, 'INVALID_EVENT');
  t.equal(malformed.body.error.details.field, '/Records/0/s3/bucket/name');
  const notJson = await fetch(`${svc.url}/events/s3`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"Records": [' });
  t.equal(notJson.status, 400);
  t.equal(((await notJson.json()) as any).error.code, 'INVALID_REQUEST');
});

t.test('events without valid auth get 401: the API token on /events/s3, the watch\'s secret on its own URL', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const target = await table(h, 'guarded');
  const token = 'watch-token-0123456789abcdef';
  const svc = await h.start('all', { apiTokens: [token] });
  const bearer = { authorization: `Bearer ${token}` };
  const created = await postWatch(svc.url!, { name: 'guarded', prefix: 's3://landing/in/', on: 'object', job: { target: { table: target } } }, bearer);
  t.equal(created.status, 201);
  const secret = created.body.secret as string;
  t.ok(secret && secret.length >= 24, 'a generated secret, shown once');
  t.equal(((await (await fetch(`${svc.url}/watches/guarded`, { headers: bearer })).json()) as any).secret, undefined, 'and never again');

  const one = await putWithRecord(h, 'in/one.csv', rows(1, 5));
  const two = await putWithRecord(h, 'in/two.csv', rows(6, 5));
  const body = s3Notification([one]);
  t.equal((await postEvent(`${svc.url}/events/s3`, body)).status, 401, 'no token');
  t.equal((await postEvent(`${svc.url}/events/s3`, body, { authorization: 'Bearer wrong' })).status, 401, 'a wrong token');
  t.equal((await postEvent(`${svc.url}/events/s3/guarded`, body)).status, 401, 'no secret');
  t.equal((await postEvent(`${svc.url}/events/s3/guarded?secret=${secret.slice(1)}x`, body)).status, 401, 'a wrong secret');
  t.equal((await postEvent(`${svc.url}/events/s3/nosuchwatch?secret=${secret}`, body)).status, 401, 'another watch\'s name');
  const denied = await postEvent(`${svc.url}/events/s3/guarded`, body);
  t.equal(denied.body.error.code, 'UNAUTHORIZED');
  t.same(await jobsOf(h), [], 'nothing started without auth');

  const byToken = await postEvent(`${svc.url}/events/s3`, body, bearer);
  t.equal(byToken.status, 200);
  const bySecret = await postEvent(`${svc.url}/events/s3/guarded?secret=${secret}`, s3Notification([two]));
  t.equal(bySecret.status, 200);
  t.equal(bySecret.body.jobs.length, 1);
  const jobs = await jobsOf(h);
  t.equal(jobs.length, 2, 'one job each, by token and by secret');
  for (const j of jobs) t.equal(await endedStatus(h, j.id), 'succeeded');
  t.same(await counts(h, target), { n: 10, ids: 10, sum: sumTo(10) });
});

t.test('a watch\'s secret in an event URL never reaches the log', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => done(void lines.push(String(chunk))) });
  const svc = await startService({ role: 'api', config: h.config, log: createLogger('info', sink) });
  t.teardown(() => svc.stop());
  await h.db.query(`CREATE TABLE ${h.schema}.t (id int, note text)`);
  const secret = 'the-secret-of-this-watch-0123456789';
  t.equal((await postWatch(svc.url!, { name: 'logged', prefix: 's3://landing/l/', on: 'object', secret, job: { target: { table: `${h.schema}.t` } } })).status, 201);
  const res = await postEvent(`${svc.url}/events/s3/logged?secret=${secret}`, s3Notification([s3Record(h.bucket, 'elsewhere/x.csv', 'e')]));
  t.equal(res.status, 200);
  await new Promise((r) => setTimeout(r, 100));
  const out = lines.join('');
  t.match(out, /"url":"\/events\/s3\/logged\?secret=\[redacted\]"/, 'the request is logged, its secret censored');
  t.notOk(out.includes(secret), 'the log does not hold the secret');
});

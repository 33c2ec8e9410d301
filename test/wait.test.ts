import t from 'tap';
import { JobWatch } from '../src/api/jobWatch.js';
import { createLogger } from '../src/log.js';
import { pricePaidCsv } from '../src/gen/pricePaid.js';
import { createHarness, postJob, slowTable } from './helpers/harness.js';

t.test('GET /jobs/:id?wait=N answers when the job ends, or with the job as it is after N seconds', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  // About 2.5 s of COPY: 1,000 rows at 2.5 ms each.
  await slowTable(h, 'slow', 2.5);
  const url = await h.put('slow.csv', pricePaidCsv(1_000, 7));
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.slow` } });
  t.equal(res.status, 202);

  const short = await fetch(`${svc.url}/jobs/${res.body.id}?wait=1`);
  t.equal(short.status, 200);
  const early = (await short.json()) as any;
  t.match(early.status, /^(queued|running)$/, 'a wait shorter than the load answers with the job still going');

  const long = await fetch(`${svc.url}/jobs/${res.body.id}?wait=60`);
  const done = (await long.json()) as any;
  const answeredAt = Date.now();
  t.equal(done.status, 'succeeded', JSON.stringify(done.error));
  t.equal(done.progress.rowsLoaded, 1000);
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.slow`);
  t.equal(rows[0].n, 1000);
  // Woken by the job's notification, not by the 5-second recheck.
  t.ok(answeredAt - Date.parse(done.finishedAt) < 2000, `answered ${answeredAt - Date.parse(done.finishedAt)} ms after the job finished`);

  // An ended job answers at once; a bad wait is refused; an unknown job is 404 even with a wait.
  const again = await fetch(`${svc.url}/jobs/${res.body.id}?wait=60`);
  t.equal(((await again.json()) as any).status, 'succeeded');
  const bad = await fetch(`${svc.url}/jobs/${res.body.id}?wait=-1`);
  t.equal(bad.status, 400);
  t.equal(((await bad.json()) as any).error.code, 'INVALID_REQUEST');
  const tooLong = await fetch(`${svc.url}/jobs/${res.body.id}?wait=100000`);
  t.equal(tooLong.status, 400);
  const missing = await fetch(`${svc.url}/jobs/00000000-0000-4000-8000-000000000000?wait=5`);
  t.equal(missing.status, 404);
  t.equal(((await missing.json()) as any).error.code, 'JOB_NOT_FOUND');
});

t.test('the watch is woken by the jobs table trigger when a job ends, by any path, and only then', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.start('api'); // applies the migrations
  const watch = new JobWatch(h.config.databaseUrl, createLogger('silent'));
  t.teardown(() => watch.close());
  const id = '6d1e2f30-0000-4000-8000-00000000c0de';
  await h.db.query(`DELETE FROM ingest.jobs WHERE id = $1`, [id]);
  await h.db.query(`INSERT INTO ingest.jobs (id, queue, status, spec, target, source_url, spec_hash) VALUES ($1, $2, 'queued', '{}', 'x.y', 's3://b/k', 'h')`, [id, h.config.queueName]);
  t.teardown(() => h.db.query(`DELETE FROM ingest.jobs WHERE id = $1`, [id]));
  const watching = await watch.watch(id);
  t.teardown(() => watching.dispose());

  const timed = async (what: () => Promise<unknown>, ms: number): Promise<number> => {
    const t0 = Date.now();
    const woke = watching.next(ms);
    await what();
    await woke;
    return Date.now() - t0;
  };
  // A status that is not an end does not wake it: the 1.5 s timer does.
  t.ok((await timed(() => h.db.query(`UPDATE ingest.jobs SET status = 'running' WHERE id = $1`, [id]), 1500)) >= 1400, 'running is not an end');
  // An end wakes it long before its 20 s timer.
  t.ok((await timed(() => h.db.query(`UPDATE ingest.jobs SET status = 'cancelled' WHERE id = $1`, [id]), 20_000)) < 5000, 'cancelled wakes the waiter');
});

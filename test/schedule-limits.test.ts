// Schedules have a minimum interval (SCHEDULE_MIN_INTERVAL_SECONDS, for everySeconds and for the
// tightest gap of a cron pattern) and a cap on their number (SCHEDULE_MAX_COUNT): both refused with 400
// and a code of their own, and a refused schedule is stored nowhere (PostgreSQL or Redis).
import t from 'tap';
import { shortestCronGapSeconds } from '../src/jobs/scheduleLimits.js';
import { createQueue } from '../src/queue/queue.js';
import { createHarness } from './helpers/harness.js';

t.test('the tightest gap of a cron pattern is what the scheduler will use', async (t) => {
  const from = Date.UTC(2026, 0, 10, 12, 0, 0);
  t.equal(shortestCronGapSeconds('0 3 * * *', 'UTC', { from }), 86_400, 'daily');
  t.equal(shortestCronGapSeconds('*/5 * * * * *', 'UTC', { from }), 5, 'a seconds field');
  t.equal(shortestCronGapSeconds('* 3 * * *', 'UTC', { from }), 60, 'every minute within one hour of the day');
  t.equal(shortestCronGapSeconds('0 0,1 * * *', 'UTC', { from }), 3_600, 'a list');
  t.equal(shortestCronGapSeconds('0 0 1,2 * *', 'UTC', { from }), 86_400, 'monthly, on two days');
});

t.test('a schedule firing more often than SCHEDULE_MIN_INTERVAL_SECONDS is refused with 400', async (t) => {
  const h = await createHarness({ scheduleMinIntervalSeconds: 300 });
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const job = { source: { url: 's3://landing/lim/' }, target: { table: `${h.schema}.n` } };
  const post = async (body: object) => {
    const res = await fetch(`${svc.url}/schedules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const every = await post({ name: `every-${h.schema}`, everySeconds: 299, job });
  t.equal(every.status, 400);
  t.equal(every.body.error.code, 'SCHEDULE_INTERVAL_TOO_SHORT');
  t.same([every.body.error.details.field, every.body.error.details.intervalSeconds, every.body.error.details.minimumSeconds], ['/everySeconds', 299, 300]);
  const cron = await post({ name: `cron-${h.schema}`, cron: '*/2 * * * *', job });
  t.equal(cron.status, 400);
  t.equal(cron.body.error.code, 'SCHEDULE_INTERVAL_TOO_SHORT');
  t.equal(cron.body.error.details.field, '/cron');
  t.equal(cron.body.error.details.intervalSeconds, 120);
  const burst = await post({ name: `burst-${h.schema}`, cron: '* 3 * * *', timezone: 'Europe/London', job });
  t.equal(burst.body.error?.code, 'SCHEDULE_INTERVAL_TOO_SHORT', 'a burst within one hour of a daily pattern counts');
  const badCron = await post({ name: `bad-${h.schema}`, cron: '99 99 * * *', job });
  t.equal(badCron.status, 400);
  t.equal(badCron.body.error.code, 'INVALID_SPEC');

  t.equal((await post({ name: `ok1-${h.schema}`, everySeconds: 300, job })).status, 201, 'exactly the minimum is allowed');
  t.equal((await post({ name: `ok2-${h.schema}`, cron: '*/5 * * * *', job })).status, 201);
  const { rows } = await h.db.query('SELECT name FROM ingest.schedules WHERE queue = $1 ORDER BY name', [h.config.queueName]);
  t.same(rows.map((r) => r.name), [`ok1-${h.schema}`, `ok2-${h.schema}`], 'only the allowed schedules are stored');
  const queue = createQueue(h.config);
  t.teardown(() => queue.close());
  t.same((await queue.getJobSchedulers()).map((s) => s.key ?? s.name).sort(), [`ok1-${h.schema}`, `ok2-${h.schema}`], 'and only they tick');
});

t.test('SCHEDULE_MAX_COUNT caps the schedules; updating one at the cap still works, concurrent creates cannot pass it', async (t) => {
  const h = await createHarness({ scheduleMinIntervalSeconds: 60, scheduleMaxCount: 3 });
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const job = { source: { url: 's3://landing/cap/' }, target: { table: `${h.schema}.n` } };
  const post = async (name: string, everySeconds = 3600) => {
    const res = await fetch(`${svc.url}/schedules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, everySeconds, job }) });
    return { status: res.status, body: (await res.json()) as any };
  };
  // Six at once for three places.
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => post(`cap${i}-${h.schema}`)));
  t.equal(results.filter((r) => r.status === 201).length, 3, 'three created');
  const refused = results.filter((r) => r.status === 400);
  t.equal(refused.length, 3, 'three refused');
  for (const r of refused) {
    t.equal(r.body.error.code, 'SCHEDULE_LIMIT_REACHED');
    t.equal(r.body.error.details.limit, 3);
  }
  const stored = await h.db.query('SELECT name FROM ingest.schedules WHERE queue = $1', [h.config.queueName]);
  t.equal(stored.rowCount, 3, 'three stored');
  const existing = results.findIndex((r) => r.status === 201);
  const update = await post(`cap${existing}-${h.schema}`, 7200);
  t.equal(update.status, 200, 'an existing schedule can still be changed at the cap');
  t.equal(update.body.everySeconds, 7200);
  t.equal((await fetch(`${svc.url}/schedules/cap${existing}-${h.schema}`, { method: 'DELETE' })).status, 204);
  t.equal((await post(`another-${h.schema}`)).status, 201, 'a deleted schedule frees its place');
  const queue = createQueue(h.config);
  t.teardown(() => queue.close());
  t.equal((await queue.getJobSchedulers()).length, 3, 'Redis holds the same three schedulers');
  await h.db.query('DELETE FROM ingest.schedules WHERE queue = $1', [h.config.queueName]);
});

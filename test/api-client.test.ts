// The command line's API client against a real API under pressure: a request refused as OVERLOADED
// (503, before any handler ran) is sent again after Retry-After, so a submit lands exactly once.
import t from 'tap';
import { ApiClient, ApiError } from '../src/cli/client.js';
import { createHarness } from './helpers/harness.js';

t.test('a submit refused as OVERLOADED is sent again after Retry-After and creates exactly one job', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.prices (id int, price int)`);
  const url = await h.put('prices.csv', '1,100\n2,250\n');
  const svc = await h.start('api');
  // Take every pooled connection and queue queries behind them: the API's health check sees the queue.
  const held = await Promise.all(Array.from({ length: svc.pool.options.max ?? 10 }, () => svc.pool.connect()));
  const waiting = Array.from({ length: 60 }, () => svc.pool.query('SELECT 1').catch((err: Error) => err));
  let status = 0;
  for (let i = 0; i < 100 && status !== 503; i++) {
    status = (await fetch(`${svc.url}/jobs`)).status;
    if (status !== 503) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(status, 503, 'the API sheds load');

  const spec = { source: { url }, format: {}, target: { table: `${h.schema}.prices` } };
  const impatient = new ApiClient({ baseUrl: svc.url!, overloadedRetries: 0 });
  const refused = await impatient.submit(spec).catch((err: unknown) => err);
  t.ok(refused instanceof ApiError, 'without retries the refusal reaches the caller');
  t.equal((refused as ApiError).code, 'OVERLOADED');
  t.equal((refused as ApiError).retryAfterMs, 5000, "the answer's Retry-After, in ms");

  // The pressure ends while the patient client waits out the Retry-After.
  const submitting = new ApiClient({ baseUrl: svc.url! }).submit(spec);
  setTimeout(() => {
    for (const c of held) c.release();
  }, 1000);
  const submitted = await submitting;
  await Promise.all(waiting);
  t.match(submitted, { id: /^[0-9a-f-]{36}$/, status: 'queued' });
  const jobs = await h.db.query(`SELECT id FROM ingest.jobs WHERE queue = $1`, [h.config.queueName]);
  t.same(jobs.rows.map((r) => r.id), [submitted.id], 'one job: the refused attempts created none');
});

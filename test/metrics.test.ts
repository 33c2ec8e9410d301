// /metrics after real loads (counters, the stage histogram, jobs by status, queue depth, open COPY
// streams back to zero), the worker's own metrics server, and load shedding under pressure.
import t from 'tap';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';
import { pricePaidCsv, ukPriceTableSql } from '../src/gen/pricePaid.js';

/** The value of one sample line, e.g. `citus_ingest_jobs{status="succeeded"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

t.test('after real loads /metrics counts their rows and bytes, times their stages and shows jobs and the queue', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const rows = 20_000;
  const first = pricePaidCsv(rows, 11);
  const second = pricePaidCsv(rows, 12);
  const single = await h.put('metrics/single.csv', first);
  const chunked = await h.put('metrics/chunked.csv', second);
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const svc = await h.start();

  const a = await postJob(svc.url!, { source: { url: single }, target: { table: `${h.schema}.uk_price` } });
  const b = await postJob(svc.url!, { source: { url: chunked }, target: { table: `${h.schema}.uk_price` }, atomicity: 'chunk', streams: 2, chunkBytes: 65536 });
  const missing = await postJob(svc.url!, { source: { url: 's3://landing/metrics/none.csv' }, target: { table: `${h.schema}.uk_price` } });
  for (const id of [a.body.id, b.body.id]) t.equal((await waitForJob(svc.url!, id)).status, 'succeeded');
  t.equal((await waitForJob(svc.url!, missing.body.id)).status, 'failed');

  const res = await fetch(`${svc.url}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  t.ok(sample(text, 'citus_ingest_rows_loaded_total')! >= 2 * rows, 'rows_loaded_total covers both loads');
  t.ok(sample(text, 'citus_ingest_bytes_read_total')! >= Buffer.byteLength(first) + Buffer.byteLength(second), 'bytes_read_total covers both objects');
  t.equal(sample(text, 'citus_ingest_rows_rejected_total'), 0);
  t.ok(sample(text, 'citus_ingest_runs_total{status="succeeded"}')! >= 2);
  t.ok(sample(text, 'citus_ingest_runs_total{status="failed"}')! >= 1);
  t.ok(sample(text, 'citus_ingest_stage_duration_seconds_count{stage="copyMs"}')! >= 2, 'a copyMs observation per load');
  t.match(text, /^citus_ingest_stage_duration_seconds_bucket\{le="\+Inf",stage="copyMs"\} \d+$/m);
  t.ok(sample(text, 'citus_ingest_stage_duration_seconds_count{stage="totalMs"}')! >= 3, 'failed runs are timed too');
  // Jobs are counted for this service's queue only, so the numbers are exactly this test's.
  t.equal(sample(text, 'citus_ingest_jobs{status="succeeded"}'), 2);
  t.equal(sample(text, 'citus_ingest_jobs{status="failed"}'), 1);
  t.equal(sample(text, 'citus_ingest_jobs{status="queued"}'), 0);
  for (const state of ['waiting', 'active', 'delayed', 'failed']) t.type(sample(text, `citus_ingest_queue_jobs{state="${state}"}`), 'number', `queue depth ${state}`);
  t.equal(sample(text, 'citus_ingest_copy_streams_active'), 0, 'every COPY stream (single and chunk lanes) closed again');
  t.type(sample(text, 'process_resident_memory_bytes'), 'number', 'default process metrics');
  t.equal(sample(text, 'citus_ingest_scrape_errors_total{source="database"}'), undefined, 'no scrape error');
});

t.test('a worker on its own serves its counters on METRICS_PORT, behind the same tokens', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const token = 'metrics-token-0123456789';
  const url = await h.put('metrics/worker.csv', pricePaidCsv(500, 5));
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const api = await h.start('api', { apiTokens: [token] });
  const worker = await h.start('worker', { metricsPort: 0, apiTokens: [token] });
  t.ok(worker.metricsUrl, 'the worker listens');
  const auth = { authorization: `Bearer ${token}` };
  const res = await postJob(api.url!, { source: { url }, target: { table: `${h.schema}.uk_price` } }, auth);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const job = (await (await fetch(`${api.url}/jobs/${res.body.id}`, { headers: auth })).json()) as { status: string };
    if (job.status === 'succeeded') break;
    if (Date.now() > deadline) throw new Error(`job still ${job.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  t.equal((await fetch(`${worker.metricsUrl}/metrics`)).status, 401, 'no token, no metrics');
  t.equal((await fetch(`${worker.metricsUrl}/healthz`)).status, 200, 'the liveness probe needs none');
  const text = await (await fetch(`${worker.metricsUrl}/metrics`, { headers: auth })).text();
  t.ok(sample(text, 'citus_ingest_rows_loaded_total')! >= 500);
  t.notMatch(text, /^citus_ingest_jobs\{/m, 'deployment-wide gauges are the API\'s, so a sum counts them once');
  t.notMatch(text, /^citus_ingest_queue_jobs\{/m);
  const apiText = await (await fetch(`${api.url}/metrics`, { headers: auth })).text();
  t.equal(sample(apiText, 'citus_ingest_jobs{status="succeeded"}'), 1);
});

t.test('under pressure the API answers 503 OVERLOADED with Retry-After; /healthz still answers', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api');
  // Take every pooled connection, then queue queries behind them: the cheap health check sees the queue.
  const held = await Promise.all(Array.from({ length: svc.pool.options.max ?? 10 }, () => svc.pool.connect()));
  const waiting = Array.from({ length: 60 }, () => svc.pool.query('SELECT 1').catch((err: Error) => err));
  t.ok(svc.pool.waitingCount >= 50, `${svc.pool.waitingCount} queries wait for a connection`);
  // /docs/json needs no database, so it answers until the health check (every second) sees the queue.
  let res = await fetch(`${svc.url}/docs/json`);
  for (let i = 0; i < 40 && res.status !== 503; i++) {
    await new Promise((r) => setTimeout(r, 100));
    res = await fetch(`${svc.url}/docs/json`);
  }
  t.equal(res.status, 503);
  t.equal(res.headers.get('retry-after'), '5');
  const body = (await res.json()) as { error: { code: string; message: string } };
  t.equal(body.error.code, 'OVERLOADED');
  t.match(body.error.message, /wait for a database connection/);
  t.equal((await fetch(`${svc.url}/healthz`)).status, 200, 'liveness is not load shedding');
  t.equal((await fetch(`${svc.url}/jobs`)).status, 503, 'refused before it would wait for a connection');

  for (const c of held) c.release();
  await Promise.all(waiting);
  for (let i = 0; i < 40 && res.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    res = await fetch(`${svc.url}/jobs`);
  }
  t.equal(res.status, 200, 'recovers once the queue drains');
});

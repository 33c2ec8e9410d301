// Fault tests: each kills something in the middle of a load and checks the rows, not just the status.
// Into a distributed table on the local Citus cluster when it is installed, plain PostgreSQL otherwise.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { Upload } from '@aws-sdk/lib-storage';
import { Redis } from 'ioredis';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';
import { pricePaidStream, ukPriceTableSql } from '../src/gen/pricePaid.js';

const cluster = citusCluster();
const databaseUrl = cluster.url;
const where = databaseUrl ? 'a 32-shard distributed table on Citus' : 'plain PostgreSQL (Citus not installed)';
const fast = { lockDurationMs: 3000, stalledIntervalMs: 1000, reconcileIntervalMs: 1000 };

function workerProcess(h: Harness): ChildProcess {
  // node itself, not the tsx wrapper: SIGKILL must hit the process that holds the COPY.
  return spawn(process.execPath, ['--import', 'tsx', 'src/entry.ts', 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: h.config.databaseUrl, REDIS_URL: h.config.redisUrl, S3_ENDPOINT: h.s3.endpoint,
      S3_ACCESS_KEY_ID: h.s3.accessKeyId, S3_SECRET_ACCESS_KEY: h.s3.secretAccessKey, QUEUE_NAME: h.config.queueName,
      LOCK_DURATION_MS: '3000', STALLED_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '1000', PROGRESS_INTERVAL_MS: '100', LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function setup(h: Harness, rows: number, seed: number) {
  const table = `${h.schema}.uk_price`;
  await h.db.query(ukPriceTableSql(table));
  if (databaseUrl) await h.db.query(`SELECT create_distributed_table($1, 'transaction_unique_identifier', shard_count => 32)`, [table]);
  await new Upload({ client: h.s3Client, params: { Bucket: h.bucket, Key: `pp-${rows}.csv`, Body: pricePaidStream(rows, seed) } }).done();
  return { table, url: `s3://${h.bucket}/pp-${rows}.csv` };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function exactlyOnce(t: { same: (a: unknown, b: unknown, m: string) => unknown }, h: Harness, table: string, rows: number): Promise<void> {
  const { rows: r } = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT transaction_unique_identifier)::int AS d FROM ${table}`);
  t.same(r[0], { n: rows, d: rows }, `exactly ${rows} rows, no duplicate keys`);
}

t.test(`SIGKILL of the worker mid-way through a 2,000,000-row chunked load into ${where}: a new worker finishes it exactly once`, async (t) => {
  const h = await createHarness({ ...(databaseUrl ? { databaseUrl } : {}), ...fast });
  t.teardown(() => h.close());
  const rows = 2_000_000;
  const { table, url } = await setup(h, rows, 401);
  const api = await h.start('api');
  const worker = workerProcess(h);
  const exited = new Promise((r) => worker.on('exit', (_code, signal) => r(signal)));
  const { body } = await postJob(api.url!, { source: { url }, target: { table }, atomicity: 'chunk', streams: 2, chunkBytes: 16 << 20 });
  const target = `"${h.schema}"."uk_price"`;
  await until('three committed chunks', async () => (await h.db.query('SELECT count(*)::int AS n FROM ingest.chunk_ledger WHERE target = $1', [target])).rows[0].n >= 3, 120_000);
  worker.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL', 'killed the worker process while chunks were loading');
  const mid = (await h.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
  t.ok(mid > 0 && mid < rows, `${mid} rows committed when it died`);

  await h.start('worker');
  const job = await waitForJob(api.url!, body.id, ['succeeded', 'failed'], 180_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.ok(job.runs.length >= 2, 'the killed attempt and the one that finished are both runs');
  t.equal(job.runs.at(-1).rowsLoaded, rows - mid, 'the new worker loaded only the missing chunks');
  await exactlyOnce(t, h, table, rows);
});

t.test(`the load's database backend terminated mid-COPY (${where}): retried with backoff, exactly once`, async (t) => {
  const h = await createHarness({ ...(databaseUrl ? { databaseUrl } : {}), ...fast });
  t.teardown(() => h.close());
  const rows = 300_000;
  const { table, url } = await setup(h, rows, 402);
  const svc = await h.start();
  const { body } = await postJob(svc.url!, { source: { url }, target: { table } });
  let killed = 0;
  await until('the COPY to start', async () => {
    const res = await h.db.query(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query LIKE 'COPY "${h.schema}"."uk_price"%' AND pid <> pg_backend_pid()`,
    );
    killed = res.rows.filter((r: any) => r.ok).length;
    return killed > 0;
  });
  t.ok(killed >= 1, 'terminated the backend running the COPY');
  const job = await waitForJob(svc.url!, body.id, ['succeeded', 'failed'], 120_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.runs[0].status, 'failed');
  t.equal(job.runs[0].error.code, 'DATABASE_UNAVAILABLE');
  t.equal(job.runs.at(-1).status, 'succeeded');
  await exactlyOnce(t, h, table, rows);
});

t.test(`Redis flushed and the worker killed mid-job (${where}): the job is re-enqueued from PostgreSQL and completes once`, async (t) => {
  const h = await createHarness({ ...(databaseUrl ? { databaseUrl } : {}), ...fast });
  t.teardown(() => h.close());
  const rows = 300_000;
  const { table, url } = await setup(h, rows, 403);
  const api = await h.start('api');
  const worker = workerProcess(h);
  const exited = new Promise((r) => worker.on('exit', (_code, signal) => r(signal)));
  const { body } = await postJob(api.url!, { source: { url }, target: { table } });
  await waitForJob(api.url!, body.id, ['running', 'succeeded', 'failed']);
  // The job's Redis state goes (no persistence, a failover): every key of its queue.
  const redis = new Redis(h.config.redisUrl);
  const keys = await redis.keys(`${h.config.queuePrefix}:${h.config.queueName}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  worker.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL');
  t.ok(keys.length > 0, `flushed ${keys.length} Redis keys of the queue`);
  const mid = await waitForJob(api.url!, body.id, ['running', 'queued', 'succeeded', 'failed']);
  t.not(mid.status, 'succeeded', 'the job was not finished when its worker died');

  await h.start('worker');
  const job = await waitForJob(api.url!, body.id, ['succeeded', 'failed'], 120_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  await exactlyOnce(t, h, table, rows);
});

// Test harness: a real S3 endpoint (s3rver) on loopback, the real PostgreSQL and Redis, and the
// service started in-process with its own queue name, so tests never share state.
import { randomUUID } from 'node:crypto';
import { PutObjectCommand, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import createClient, { type Client } from 'openapi-fetch';
import pg from 'pg';
import type { paths } from '../../src/cli/api.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createPool } from '../../src/db/pool.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../src/dev/embeddedS3.js';
import { createLogger } from '../../src/log.js';
import { startService, type Role, type RunningService } from '../../src/service.js';
import { createS3Client, s3Settings } from '../../src/sources/s3/client.js';
import { createNotifyQueue, createQueue } from '../../src/queue/queue.js';

export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Harness {
  s3: EmbeddedS3;
  s3Client: S3Client;
  bucket: string;
  config: Config;
  db: pg.Pool;
  /** A fresh schema for this test's tables. */
  schema: string;
  start(role?: Role, overrides?: Partial<Config>): Promise<RunningService>;
  put(key: string, body: Buffer | string): Promise<string>;
  close(): Promise<void>;
}

export async function createHarness(overrides: Partial<Config> = {}): Promise<Harness> {
  const bucket = 'landing';
  const s3 = await startEmbeddedS3({ buckets: [bucket] });
  const suffix = randomUUID().slice(0, 8);
  const config = loadConfig(
    {
      DATABASE_URL: testDatabaseUrl,
      REDIS_URL: testRedisUrl,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      PORT: '0',
      QUEUE_NAME: `test-${suffix}`,
      PROGRESS_INTERVAL_MS: '100',
      SHUTDOWN_TIMEOUT_MS: '2000',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    },
    overrides,
  );
  const s3Client = createS3Client(s3Settings(config));
  // The service's own pool factory: a connection the database (or a pooler restarting under a fault
  // test) drops must fail the query that used it, not crash the test process.
  const db = createPool(config.databaseUrl, { max: 4, applicationName: 'citus-ingest-test' });
  const schema = `t_${suffix}`;
  try {
    await db.query(`CREATE SCHEMA ${schema}`);
  } catch (err) {
    // Nothing may stay open when the harness cannot be made: the test file would wait on it until its timeout.
    await db.end().catch(() => {});
    s3Client.destroy();
    await s3.stop();
    throw err;
  }
  const services: RunningService[] = [];
  return {
    s3, s3Client, bucket, config, db, schema,
    async start(role = 'all', more = {}) {
      const svc = await startService({ role, config: { ...config, ...more }, log: createLogger(config.logLevel) });
      services.push(svc);
      if (svc.url) await untilNotShedding(svc.url);
      return svc;
    },
    async put(key, body) {
      await s3Client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return `s3://${bucket}/${key}`;
    },
    async close() {
      for (const svc of services.reverse()) await svc.stop().catch(() => {});
      // Leave nothing for another test's reconciler or queue: close this test's jobs, drop its queue.
      await db.query(`UPDATE ingest.jobs SET status = 'cancelled' WHERE queue = $1 AND status IN ('queued', 'running')`, [config.queueName]).catch(() => {});
      const queue = createQueue(config);
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      const notifyQueue = createNotifyQueue(config);
      await notifyQueue.obliterate({ force: true }).catch(() => {});
      await notifyQueue.close();
      await db.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
      await db.end();
      s3Client.destroy();
      await s3.stop();
    },
  };
}

/** The environment a service process started by a test needs to use the harness's database, Redis, S3 and queue. */
export function serviceEnv(h: Harness): Record<string, string> {
  return {
    DATABASE_URL: h.config.databaseUrl,
    REDIS_URL: h.config.redisUrl,
    S3_ENDPOINT: h.s3.endpoint,
    S3_ACCESS_KEY_ID: h.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: h.s3.secretAccessKey,
    QUEUE_NAME: h.config.queueName,
  };
}

/**
 * Waits until the API stops shedding load. On a machine shared with other test runs, the event loop of
 * a process that just started (compiling, connecting) can lag past under-pressure's limit, and the
 * first requests get 503 OVERLOADED for a while; tests are about what comes after.
 */
export async function untilNotShedding(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/jobs?limit=1`).catch(() => undefined);
    const body = res ? ((await res.json().catch(() => ({}))) as any) : undefined;
    if (res && !(res.status === 503 && body?.error?.code === 'OVERLOADED')) return;
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The price-paid shape's 16 columns, all text (the tests' default for a table that takes any CSV of it). */
export const SIXTEEN_TEXT_COLUMNS = Array.from({ length: 16 }, (_, i) => `c${i} text`).join(', ');

/**
 * A table whose every inserted row sleeps `msPerRow` in a trigger, so a COPY into it takes long enough
 * to cancel, kill or wait for in the middle.
 */
export async function slowTable(h: Harness, name: string, msPerRow: number, columns = SIXTEEN_TEXT_COLUMNS): Promise<string> {
  const table = `${h.schema}.${name}`;
  await h.db.query(`CREATE TABLE ${table} (${columns})`);
  await h.db.query(`CREATE FUNCTION ${h.schema}.nap_${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(${msPerRow / 1000}); RETURN NEW; END $$`);
  await h.db.query(`CREATE TRIGGER nap BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${h.schema}.nap_${name}()`);
  return table;
}

export async function createBucket(client: S3Client, name: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: name }));
}

const ENDED = ['succeeded', 'failed', 'cancelled'];

/** The API through the client generated from its OpenAPI document, as the CLI calls it. */
function apiClient(url: string): Client<paths> {
  return createClient<paths>({ baseUrl: url });
}

/**
 * Reads GET /jobs/:id until the job reaches one of `states` (default: any end). Waiting for ends only,
 * it holds each request with ?wait= (the service answers when the job ends); otherwise it polls.
 */
export async function waitForJob(url: string, id: string, states: string[] = ENDED, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  const endsOnly = states.every((s) => ENDED.includes(s));
  for (;;) {
    const wait = endsOnly ? Math.max(1, Math.min(60, Math.ceil((deadline - Date.now()) / 1000))) : 0;
    const { data, error } = await apiClient(url).GET('/jobs/{id}', { params: { path: { id }, query: wait ? { wait } : {} } });
    const job = (data ?? error) as any;
    if (states.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms: ${JSON.stringify(job)}`);
    if (!wait || ENDED.includes(job.status)) await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every reject of a job, in the order GET /jobs/:id/rejects lists them, a page of 1,000 at a time. */
export async function allRejects(url: string, id: string): Promise<any[]> {
  const all: any[] = [];
  let cursor: string | null = null;
  do {
    const query: { limit: number; cursor?: string } = { limit: 1000, ...(cursor ? { cursor } : {}) };
    const { data, error } = await apiClient(url).GET('/jobs/{id}/rejects', { params: { path: { id }, query } });
    if (!data) throw new Error(`GET /jobs/${id}/rejects: ${JSON.stringify(error)}`);
    all.push(...(data.rejects ?? []));
    cursor = data.nextCursor ?? null;
  } while (cursor);
  return all;
}

/**
 * POSTs a job. A 503 OVERLOADED (the shared test machine stalling the event loop, often right after the
 * service starts) is retried for up to a minute, as a client honouring Retry-After would.
 */
export async function postJob(url: string, spec: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(spec),
    });
    const body = (await res.json()) as any;
    if (res.status !== 503 || body?.error?.code !== 'OVERLOADED' || Date.now() > deadline) return { status: res.status, body };
    await new Promise((r) => setTimeout(r, 500));
  }
}

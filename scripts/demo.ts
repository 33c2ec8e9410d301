// `npm run demo`: the main job on embedded defaults. Starts an in-process S3 endpoint when S3_ENDPOINT
// is not set, uploads a deterministic price-paid-shaped sample, creates the target table if missing,
// submits the load through the HTTP API, waits, and prints the run's timing table and row counts.
//
// Options: --rows N (default 100000), --table schema.table (default public.uk_price),
//          --fresh (drop the demo table and its ledger entries first, so the sample loads again).
import { parseArgs } from 'node:util';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ConfigError, loadConfig, type Config } from '../src/config.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../src/dev/embeddedS3.js';
import { pricePaidStream, ukPriceTableSql } from '../src/gen/pricePaid.js';
import { createLogger } from '../src/log.js';
import { timingTable } from '../src/report/timingTable.js';
import { startService } from '../src/service.js';
import { createS3Client } from '../src/sources/s3.js';
import { parseTableName, qualifiedName } from '../src/target/names.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    table: { type: 'string', default: 'public.uk_price' },
    fresh: { type: 'boolean', default: false },
  },
});
const rows = Number(args.rows);
if (!Number.isInteger(rows) || rows < 1) fail(`--rows must be a positive whole number, got ${args.rows}`);

function fail(message: string): never {
  console.error(`demo: ${message}`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}

// PostgreSQL and Redis must be up; say how to start them when they are not.
const db = new pg.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: 3000 });
try {
  await db.connect();
} catch (err) {
  fail(
    `cannot reach PostgreSQL at DATABASE_URL (${(err as Error).message}).\n` +
      '  Start it (Debian): pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n' +
      '  or point DATABASE_URL at a running PostgreSQL or Citus coordinator.',
  );
}
const redis = new Redis(config.redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
try {
  await redis.connect();
  await redis.ping();
} catch (err) {
  await db.end();
  fail(
    `cannot reach Redis at REDIS_URL (${(err as Error).message}).\n` +
      '  Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379\n' +
      '  or point REDIS_URL at a running Redis.',
  );
} finally {
  redis.disconnect();
}

let embedded: EmbeddedS3 | undefined;
if (!config.s3Endpoint) {
  embedded = await startEmbeddedS3();
  config = {
    ...config,
    s3Endpoint: embedded.endpoint,
    s3AccessKeyId: embedded.accessKeyId,
    s3SecretAccessKey: embedded.secretAccessKey,
    s3ForcePathStyle: true,
  };
  console.log(`demo: S3_ENDPOINT not set; started an embedded S3 endpoint at ${embedded.endpoint}`);
}
// The demo's own API listens on a free port unless PORT is given.
config = { ...config, port: process.env.PORT ? config.port : 0, logLevel: process.env.LOG_LEVEL ?? 'warn' };

const bucket = 'landing';
const key = `price-paid/pp-sample-${rows}.csv`;
const s3 = createS3Client(config);
try {
  await s3.send(new HeadBucketCommand({ Bucket: bucket }));
} catch {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}
const t0 = performance.now();
await new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: pricePaidStream(rows, 2023) } }).done();
console.log(`demo: uploaded ${rows.toLocaleString('en-US')} price-paid-shaped rows to s3://${bucket}/${key} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const table = qualifiedName(parseTableName(args.table));
if (args.fresh) {
  await db.query(`DROP TABLE IF EXISTS ${table}`);
  await db.query('DELETE FROM ingest.file_ledger WHERE target = $1', [table]).catch(() => {});
  console.log(`demo: --fresh: dropped ${table} and its file ledger entries`);
}
const exists = await db.query('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
if (!exists.rows[0].ok) {
  await db.query(ukPriceTableSql(table));
  console.log(`demo: created ${table}`);
}
const before = Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

const service = await startService({ role: 'all', config, log: createLogger(config.logLevel) });
let exitCode = 0;
try {
  // With API_TOKENS set, the demo uses the first token, as any client would.
  const auth: Record<string, string> = config.apiTokens.length ? { authorization: `Bearer ${config.apiTokens[0]}` } : {};
  const res = await fetch(`${service.url}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({
      source: { url: `s3://${bucket}/${key}` },
      format: { header: false, delimiter: ',', quote: '"', escape: '"', null: '', encoding: 'UTF8' },
      target: { table: args.table },
      maxErrors: 0,
    }),
  });
  const submitted = (await res.json()) as { id: string; status: string };
  console.log(`demo: POST /jobs -> ${res.status} ${JSON.stringify(submitted)}`);
  let job: any;
  for (;;) {
    job = await (await fetch(`${service.url}/jobs/${submitted.id}`, { headers: auth })).json();
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) break;
    const p = job.progress;
    const pct = p.bytesTotal ? ` ${((100 * p.bytesRead) / p.bytesTotal).toFixed(0)}%` : '';
    process.stdout.write(`\rdemo: ${job.status}${pct} ${p.rowsLoaded.toLocaleString('en-US')} rows   `);
    await new Promise((r) => setTimeout(r, 200));
  }
  process.stdout.write('\n');
  console.log(`demo: job ${job.id} ${job.status}`);
  for (const run of job.runs) console.log(timingTable(run));
  const after = Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  console.log(`demo: ${table} had ${before.toLocaleString('en-US')} rows, now ${after.toLocaleString('en-US')} (+${(after - before).toLocaleString('en-US')})`);
  if (job.status !== 'succeeded') {
    console.log(`demo: error ${job.error.code}: ${job.error.message}`);
    exitCode = 1;
  } else if (job.result?.filesSkipped > 0) {
    const s = job.result.skipped[0];
    console.log(
      `demo: the file ledger already holds this object for ${table} (loaded by job ${s.jobId} at ${s.loadedAt}),\n` +
        '      so nothing was loaded twice. Run `npm run demo -- --fresh` to drop the demo table and load it again.',
    );
  }
} finally {
  await service.stop();
  s3.destroy();
  await db.end();
  await embedded?.stop();
}
process.exit(exitCode);

// `npm run demo`: the main job on embedded defaults. Starts an in-process S3 endpoint when S3_ENDPOINT
// is not set, uploads a deterministic price-paid-shaped sample, submits its load through the HTTP API
// with the table described in the job spec (target.create), waits, and prints the run's timing table,
// the shard layout, and row counts. On a Citus coordinator (the citus extension is installed at
// DATABASE_URL, or --citus started the local cluster) the table is distributed on its id over 32
// shards before any row moves, and the layout shows the shards and bytes per worker and the skew.
//
// Options: --rows N (default 100000), --table schema.table (default public.uk_price),
//          --citus (start the local Citus cluster, scripts/citus-local.sh, and load into it),
//          --fresh (drop the demo table and its ledger entries first, so the sample loads again).
import { parseArgs } from 'node:util';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Redis } from 'ioredis';
import { ApiClient, ApiError } from '../src/cli/client.js';
import { CliError } from '../src/cli/exit.js';
import { processIo } from '../src/cli/io.js';
import type { SubmitSpec } from '../src/cli/spec.js';
import { followJob, printFinal } from '../src/cli/watch.js';
import { ConfigError, loadConfig, type Config } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { localCitusUp } from '../src/dev/citusLocal.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../src/dev/embeddedS3.js';
import { DEMO_SAMPLE_SEED, pricePaidStream, ukPriceCreateSpec, ukPricePrimaryKey } from '../src/gen/pricePaid.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/service.js';
import { createS3Client, s3Settings } from '../src/sources/s3/client.js';
import { forgetTarget } from '../src/sql/fileLedger.js';
import { citusVersion } from '../src/sink/citus.js';
import { parseTableName, qualifiedName } from '../src/sink/names.js';

/** Shards of the demo's distributed table: the count of the manual workflow (shared/CONTEXT.md). */
const DEMO_SHARDS = 32;

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    table: { type: 'string', default: 'public.uk_price' },
    fresh: { type: 'boolean', default: false },
    citus: { type: 'boolean', default: false },
  },
});
const rows = Number(args.rows);
if (!Number.isInteger(rows) || rows < 1) fail(`--rows must be a positive whole number, got ${args.rows}`);

function fail(message: string): never {
  console.error(`demo: ${message}`);
  process.exit(1);
}

let table: string;
try {
  table = qualifiedName(parseTableName(args.table));
} catch (err) {
  fail(`--table: ${(err as Error).message}`);
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}

if (args.citus) {
  let cluster;
  try {
    cluster = localCitusUp();
  } catch (err) {
    fail(`--citus: ${(err as Error).message}`);
  }
  if (cluster.missing !== undefined) fail(`--citus: ${cluster.missing}`);
  config = { ...config, databaseUrl: cluster.url };
  console.log(`demo: --citus: local Citus cluster up (scripts/citus-local.sh), coordinator ${cluster.url}`);
}

// PostgreSQL and Redis must be up; say how to start them when they are not.
const db = createPool(config.databaseUrl, { max: 2, applicationName: 'citus-ingest-demo' });
try {
  await db.query('SELECT 1');
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

const citus = await citusVersion(db);
if (citus) {
  console.log(`demo: Citus ${citus} at DATABASE_URL: ${table} is distributed on ${ukPricePrimaryKey} over ${DEMO_SHARDS} shards`);
} else {
  console.log(`demo: no citus extension at DATABASE_URL: ${table} is a plain PostgreSQL table (npm run demo -- --citus for a distributed one)`);
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
// The demo's own API listens on a free port unless PORT is given; its service logs only errors unless
// LOG_LEVEL asks for more (as `citus-ingest load` does), so the report is what the terminal shows.
config = { ...config, port: process.env.PORT ? config.port : 0, logLevel: process.env.LOG_LEVEL ?? 'error' };

const bucket = 'landing';
const key = `price-paid/pp-sample-${rows}.csv`;
const s3 = createS3Client(s3Settings(config));
try {
  await s3.send(new HeadBucketCommand({ Bucket: bucket }));
} catch {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}
const t0 = performance.now();
await new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: pricePaidStream(rows, DEMO_SAMPLE_SEED) } }).done();
console.log(`demo: uploaded ${rows.toLocaleString('en-US')} price-paid-shaped rows to s3://${bucket}/${key} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

if (args.fresh) {
  // One transaction: the table (a distributed table's shards with it) and the ledger rows that say its
  // objects are loaded go together. Before the service's first start there is no ledger yet.
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    const ledger = await client.query(`SELECT to_regclass('ingest.file_ledger') IS NOT NULL AS ok`);
    const forgotten = ledger.rows[0].ok ? await forgetTarget(client, table) : 0;
    await client.query('COMMIT');
    console.log(`demo: --fresh: dropped ${table} and its ${forgotten} file ledger ${forgotten === 1 ? 'entry' : 'entries'}`);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
const countRows = async (): Promise<number> => {
  const exists = await db.query('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
  return exists.rows[0].ok ? Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n) : 0;
};
const before = await countRows();

// The service creates the table when it is missing, and on Citus distributes it before loading.
const spec: SubmitSpec = {
  source: { url: `s3://${bucket}/${key}` },
  format: { header: false, delimiter: ',', quote: '"', escape: '"', null: '', encoding: 'UTF8' },
  target: {
    table: args.table,
    create: ukPriceCreateSpec(),
    ...(citus ? { distribution: { column: ukPricePrimaryKey, shardCount: DEMO_SHARDS } } : {}),
  },
  maxErrors: 0,
};

const service = await startService({ role: 'all', config, log: createLogger(config.logLevel) });
let exitCode = 0;
try {
  // With API_TOKENS set, the demo uses the first token, as any client would.
  const api = new ApiClient({ baseUrl: service.url!, token: config.apiTokens[0] });
  const submitted = await api.submit(spec);
  console.log(`demo: POST /jobs -> job ${submitted.id} ${submitted.status}`);
  // As `citus-ingest load` does: progress on stderr, then the timing table, shard layout and summary.
  const job = await followJob(api, submitted.id, processIo, { json: false, onInterrupt: 'cancel' });
  exitCode = printFinal(job, processIo, false);
  const after = await countRows();
  console.log(`demo: ${table} had ${before.toLocaleString('en-US')} rows, now ${after.toLocaleString('en-US')} (+${(after - before).toLocaleString('en-US')})`);
  if (job.status === 'succeeded' && Number(job.result?.filesSkipped) > 0) {
    console.log('demo: nothing was loaded twice. Run `npm run demo -- --fresh` to drop the demo table and load it again.');
  } else if (job.error?.code === 'TARGET_NOT_DISTRIBUTED') {
    console.log(`demo: ${table} was created as a plain table before (a demo without Citus?); \`npm run demo -- --fresh\` drops it first.`);
  }
} catch (err) {
  // The API refused the job, or following it stopped (Ctrl-C twice): say so without a stack.
  if (err instanceof ApiError) console.error(`demo: error ${err.code}: ${err.message}`);
  else if (err instanceof CliError) console.error(`demo: ${err.message}`);
  else throw err;
  exitCode = err instanceof CliError ? err.exitCode : 1;
} finally {
  await service.stop();
  s3.destroy();
  await db.end();
  await embedded?.stop();
}
process.exit(exitCode);

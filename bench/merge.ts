// `npm run bench -- --merge`: the cost of mode "merge" against appending the same file. A base file of
// --rows price-paid rows is loaded into a table (on Citus distributed over --shards shards), then a
// monthly change file of --changes records (70% A, 25% C, 5% D) is merged into it, and the same file is
// appended into an empty table of the same definition. Both through the service's API, in-process,
// timed from POST /jobs until the job has ended. Writes bench/results/merge-<target>-<rows>.json.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { startEmbeddedS3 } from '../src/dev/embeddedS3.js';
import { monthlyChangeCsv } from '../src/gen/pricePaidMonthly.js';
import { pricePaidStream, ukPriceColumns } from '../src/gen/pricePaid.js';
import { createLogger } from '../src/log.js';
import { createQueue } from '../src/queue/queue.js';
import { startService } from '../src/service.js';
import { createS3Client, s3Settings } from '../src/sources/s3/client.js';

export interface MergeBenchOptions {
  rows: number;
  changes: number;
  target: 'plain' | 'citus';
  shards: number;
  rounds: number;
  out: string;
  databaseUrl: string;
  redisUrl: string;
}

const SEED = 4242;

const create = {
  columns: ukPriceColumns.map((name) => ({
    name,
    type: name === 'transaction_unique_identifier' ? 'uuid' : name === 'price' ? 'integer' : name === 'date_of_transfer' ? 'timestamp' : 'varchar(100)',
  })),
  primaryKey: ['transaction_unique_identifier'],
};

async function body(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

export async function runMergeBench(o: MergeBenchOptions): Promise<void> {
  const s3 = await startEmbeddedS3({ buckets: ['bench'] });
  const suffix = randomUUID().slice(0, 8);
  const config = loadConfig({
    DATABASE_URL: o.databaseUrl, REDIS_URL: o.redisUrl, S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey, PORT: '0', QUEUE_NAME: `bench-merge-${suffix}`, LOG_LEVEL: 'warn',
  });
  const s3Client = createS3Client(s3Settings(config));
  const db = new pg.Pool({ connectionString: o.databaseUrl, max: 2 });
  const schema = `bench_merge_${suffix}`;
  await db.query(`CREATE SCHEMA ${schema}`);
  const svc = await startService({ role: 'all', config, log: createLogger('warn') });
  const put = async (key: string, data: Buffer) => {
    await s3Client.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: data }));
    return `s3://bench/${key}`;
  };
  const run = async (spec: Record<string, unknown>) => {
    const t0 = performance.now();
    const res = await fetch(`${svc.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
    const { id } = (await res.json()) as { id: string };
    for (;;) {
      const job = (await (await fetch(`${svc.url}/jobs/${id}?wait=60`)).json()) as any;
      if (job.status === 'succeeded') return { seconds: (performance.now() - t0) / 1000, job };
      if (job.status === 'failed' || job.status === 'cancelled') throw new Error(`job ${id} ${job.status}: ${JSON.stringify(job.error)}`);
    }
  };
  const distribution = o.target === 'citus' ? { distribution: { column: 'transaction_unique_identifier', shardCount: o.shards } } : {};
  const results: Array<{ round: number; mergeSeconds: number; appendSeconds: number; ratio: number; merge: unknown; mergeTimings: unknown; appendTimings: unknown }> = [];
  try {
    console.log(`bench merge: base of ${o.rows.toLocaleString('en-US')} rows, change file of ${o.changes.toLocaleString('en-US')} records, ${o.target}${o.target === 'citus' ? ` ${o.shards} shards` : ''}`);
    const baseUrl = await put('base.csv', await body(pricePaidStream(o.rows, SEED)));
    const month = { month: 1, adds: Math.round(o.changes * 0.7), changes: Math.round(o.changes * 0.25), deletes: 0 };
    month.deletes = o.changes - month.adds - month.changes;
    const changeUrl = await put('monthly/pp-2025-01.csv', monthlyChangeCsv({ rows: o.rows, seed: SEED }, month));
    for (let round = 1; round <= o.rounds; round++) {
      const base = `${schema}.base_${round}`;
      const loaded = await run({ source: { url: baseUrl }, target: { table: base, create, ...distribution } });
      console.log(`round ${round}: base loaded in ${loaded.seconds.toFixed(1)} s`);
      const appendTable = `${schema}.append_${round}`;
      const append = await run({ source: { url: changeUrl }, target: { table: appendTable, create, ...distribution }, afterLoad: { analyze: false } });
      const merge = await run({
        source: { url: changeUrl }, target: { table: base }, mode: 'merge', key: ['transaction_unique_identifier'],
        operation: { column: 'record_status', delete: ['D'], upsert: ['A', 'C'] }, reload: true,
      });
      const r = {
        round, mergeSeconds: merge.seconds, appendSeconds: append.seconds, ratio: merge.seconds / append.seconds,
        merge: merge.job.result.merge, mergeTimings: merge.job.runs.at(-1).timings, appendTimings: append.job.runs.at(-1).timings,
      };
      results.push(r);
      console.log(`round ${round}: append ${append.seconds.toFixed(2)} s, merge ${merge.seconds.toFixed(2)} s (${r.ratio.toFixed(2)}x); ${JSON.stringify(r.merge)}`);
      await db.query(`DROP TABLE ${base}, ${appendTable}`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const summary = {
      rows: o.rows, changes: o.changes, target: o.target, shards: o.target === 'citus' ? o.shards : null,
      medianAppendSeconds: median(results.map((r) => r.appendSeconds)), medianMergeSeconds: median(results.map((r) => r.mergeSeconds)),
      medianRatio: median(results.map((r) => r.ratio)), rounds: results, at: new Date().toISOString(),
    };
    mkdirSync(o.out, { recursive: true });
    const file = path.join(o.out, `merge-${o.target}-${o.rows}.json`);
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`median: append ${summary.medianAppendSeconds.toFixed(2)} s, merge ${summary.medianMergeSeconds.toFixed(2)} s, merge/append ${summary.medianRatio.toFixed(2)}x -> ${file}`);
  } finally {
    await svc.stop();
    const queue = createQueue(config);
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await db.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
    await db.end();
    s3Client.destroy();
    await s3.stop();
  }
}

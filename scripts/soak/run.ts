// npm run soak -- --minutes N [--seed S] [--workers W] [--faults a,b] [--ha]
// Runs the service as production does (an API process and worker processes) against the local Citus
// cluster (CITUS_LOCAL_DIR and CITUS_*_PORT as scripts/citus-local.sh reads them), or with --ha against
// the HA stack through PgBouncer, with a Redis and an S3 endpoint of its own; keeps a mixed stream of
// jobs going for N minutes while faults are injected at seeded random times, then waits for every job to
// end and audits every target against its files' truth (scripts/soak/audit.ts). The last line says what
// happened; the exit code is 1 on any loss, double, stuck job or ledger mismatch.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createS3Client } from '../../src/sources/s3/client.js';
import { audit, type JobOutcome } from './audit.js';
import { faults as localFaults, type FaultContext } from './faults.js';
import { Fleet } from './fleet.js';
import { haCluster, haFaults } from './haFaults.js';
import { Random } from './random.js';
import { recoveries, recoveryLine, type FaultMark } from './recovery.js';
import { makeBatches, specFor, tableClasses, upload, type Batch } from './workload.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '3' }, seed: { type: 'string' }, workers: { type: 'string', default: '2' }, faults: { type: 'string' }, ha: { type: 'boolean', default: false } } });
const minutes = Number(values.minutes);
// With --ha a Citus worker is restarted by Patroni (ha-restart-worker), never by pg_ctl under it.
const { 'citus-worker-restart': pgCtlRestart, ...generic } = localFaults;
const faults: Record<string, (c: FaultContext) => Promise<void>> = values.ha ? { ...generic, ...haFaults } : { ...generic, 'citus-worker-restart': pgCtlRestart! };
const faultNames = values.faults?.split(',') ?? Object.keys(faults);
const unknownFault = faultNames.find((f) => !(f in faults));
if (unknownFault !== undefined) {
  console.error(`soak: no fault ${unknownFault}${values.ha ? ' with --ha' : ''}; the faults are ${Object.keys(faults).join(', ')}`);
  process.exit(2);
}
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const random = new Random(seed);
const say = (line: string) => process.stderr.write(`soak: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
say(`seed ${seed} (repeat with --seed ${seed}), ${minutes} min${values.ha ? ', HA stack through PgBouncer' : ''}`);

const freePort = async (): Promise<number> => {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
};

// Where the soak itself reads and writes (setup, waits, audit), what the service is given, and the nodes.
let coordinator: string;
let serviceDb: Record<string, string>;
let nodes: string[];
const ha = values.ha ? haCluster() : undefined;
if (ha) {
  coordinator = ha.stack.haproxyUrl;
  serviceDb = { DATABASE_URL: ha.stack.pgbouncerUrl, DATABASE_POOL_MODE: 'transaction', DATABASE_LISTEN_URL: ha.stack.haproxyUrl };
  nodes = ha.nodes;
} else {
  coordinator = execFileSync('bash', ['scripts/citus-local.sh', 'up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
  serviceDb = { DATABASE_URL: coordinator };
  nodes = [];
}
const db = new pg.Pool({ connectionString: coordinator, max: 4, application_name: 'citus-ingest-soak' });
db.on('error', () => {}); // an idle connection a fault broke; the next query opens another
if (!ha) nodes = [coordinator, ...(await db.query<{ port: number }>(`SELECT nodeport AS port FROM pg_dist_node WHERE noderole = 'primary' AND groupid > 0`)).rows.map((n) => coordinator.replace(/:\d+\//, `:${n.port}/`))];
say(`cluster: ${coordinator}; nodes ${nodes.map((u) => new URL(u).port).join(', ')}`);
const schema = `soak_${seed}`;
await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
for (const { table, definition } of tableClasses) {
  await db.query(`CREATE TABLE ${schema}.${table} ${definition}`);
  await db.query(`SELECT create_distributed_table($1, 'id', shard_count => 8)`, [`${schema}.${table}`]);
}

/** A query that a fault may interrupt, tried again for a while. */
const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<T>> => {
  for (let tries = 0; ; tries++) {
    try {
      return await db.query<T>(sql, params);
    } catch (err) {
      if (tries >= 120) throw err;
      await sleep(1000);
    }
  }
};

const s3Dir = await mkdtemp(path.join(os.tmpdir(), 'citus-ingest-soak-s3-'));
// Idempotency-Keys are per queue: a queue of this run's own, so a seed run again on the same database
// gets new jobs, not the finished ones of the last run with it.
const queueName = `soak-${seed}-${Date.now().toString(36)}`;
const fleet = new Fleet({
  workers: Number(values.workers), apiPort: await freePort(), s3Port: await freePort(), redisPort: Number(process.env.SOAK_REDIS_PORT ?? (await freePort())), s3Dir, log: (line) => process.env.SOAK_VERBOSE && say(line),
  env: {
    ...serviceDb, S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER',
    QUEUE_NAME: queueName, LOCK_DURATION_MS: '15000', STALLED_INTERVAL_MS: '5000', RECONCILE_INTERVAL_MS: '5000', SHUTDOWN_TIMEOUT_MS: '5000', JOB_ATTEMPTS: '8',
  },
});
const jobs = new Map<string, { batch: Batch }>();
const faultCounts = new Map<string, number>();
const marks: FaultMark[] = [];
const startedAt = Date.now();
let exitCode = 1;
try {
  await fleet.start();
  const { batches, bodies } = makeBatches(random, schema, Math.max(12, Math.round(minutes * 14)));
  await upload(createS3Client({ endpoint: fleet.s3Endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true }), bodies);
  say(`${bodies.size} files in ${batches.length} batches uploaded; API ${fleet.apiUrl}, ${values.workers} workers, Redis ${fleet.redisUrl}`);

  const post = async (url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> => {
    for (let tries = 0; ; tries++) {
      try {
        const res = await fetch(`${fleet.apiUrl}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body ?? {}) });
        if (res.status >= 500 && tries < 120) throw new Error(`HTTP ${res.status}`);
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      } catch (err) {
        if (tries >= 120) throw err;
        await sleep(500); // the API is being restarted, or the database is away
      }
    }
  };
  const submit = async (batch: Batch, key?: string): Promise<string | undefined> => {
    const { status, json } = await post('/jobs', specFor(batch, schema), key ? { 'idempotency-key': key } : {});
    if (status !== 201 && status !== 200 && status !== 202) throw new Error(`POST /jobs ${batch.url}: ${status} ${JSON.stringify(json)}`);
    const id = String(json.id);
    jobs.set(id, { batch });
    return id;
  };

  const deadline = Date.now() + minutes * 60_000;
  const work = (async () => {
    let next = 0;
    const keys: Array<{ key: string; batch: Batch }> = [];
    while (Date.now() < deadline) {
      const roll = random.next();
      if (next < batches.length && roll < 0.7) {
        const batch = batches[next++]!;
        const key = `soak-${seed}-${next}`;
        keys.push({ key, batch });
        const id = await submit(batch, key);
        if (random.chance(0.08)) {
          await sleep(random.int(0, 1500));
          await post(`/jobs/${id}/cancel`);
        }
      } else if (keys.length > 0 && roll < 0.85) {
        const again = random.pick(keys);
        await submit(again.batch, again.key); // the same key and spec: the same job
      } else if (next > 0) {
        await submit(batches[random.int(0, next - 1)]!); // without a key: a new job the ledger skips
      }
      await sleep(random.int(300, 2500));
    }
    // Whatever was not submitted yet goes now, so every batch is loaded or failed by the end.
    while (next < batches.length) await submit(batches[next++]!);
  })();
  const injector = (async () => {
    await sleep(random.int(5_000, 10_000));
    while (Date.now() < deadline - 10_000) {
      const name = random.pick(faultNames);
      say(`fault: ${name} at +${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
      const running = await db.query<{ id: string }>(`SELECT id FROM ingest.jobs WHERE id = ANY($1::uuid[]) AND status = 'running'`, [[...jobs.keys()]]).catch(() => ({ rows: [] }));
      const at = Date.now();
      await faults[name]!({ fleet, random, nodes, schema, citusRoot: process.env.CITUS_LOCAL_DIR ?? '/tmp/citus-ingest-citus', ...(ha ? { ha: ha.stack } : {}) });
      marks.push({ name, at, end: Date.now(), inFlight: running.rows.map((r) => r.id) });
      faultCounts.set(name, (faultCounts.get(name) ?? 0) + 1);
      await sleep(random.int(8_000, 20_000));
    }
  })();
  await Promise.all([work, injector]);

  say(`faults stopped; waiting for ${jobs.size} jobs to end`);
  const waitUntil = Date.now() + 5 * 60_000;
  while (Date.now() < waitUntil) {
    const { rows } = await query<{ n: string }>(`SELECT count(*) AS n FROM ingest.jobs WHERE id = ANY($1::uuid[]) AND status IN ('queued', 'running')`, [[...jobs.keys()]]);
    if (Number(rows[0]!.n) === 0) break;
    await sleep(2000);
  }
  const { rows: finals } = await query<{ id: string; status: string; code: string | null; finished_at: Date | null }>(
    `SELECT id, status, error->>'code' AS code, finished_at FROM ingest.jobs WHERE id = ANY($1::uuid[])`,
    [[...jobs.keys()]],
  );
  const outcomes: JobOutcome[] = finals.map((f) => ({ id: f.id, status: f.status, code: f.code, finishedAt: f.finished_at, batch: jobs.get(f.id)!.batch }));
  const a = await audit(db, schema, batches, outcomes);
  for (const problem of [...a.lost, ...a.doubled, ...a.stuck, ...a.mismatches]) say(`PROBLEM: ${problem}`);
  for (const o of outcomes.filter((j) => j.status === 'failed' && !(j.code === 'ERROR_BUDGET_EXCEEDED'))) say(`failed otherwise: job ${o.id} ${o.code} (${o.batch.url})`);
  say(recoveryLine(recoveries(marks, new Map(outcomes.map((o) => [o.id, o]))), startedAt));
  const faultList = [...faultCounts].map(([k, n]) => `${k} ${n}`).join(', ');
  const total = [...faultCounts.values()].reduce((x, y) => x + y, 0);
  const other = [...a.failedOther].map(([code, n]) => `${n} ${code}`).join(', ');
  console.log(
    `soak: ${minutes} min${ha ? ' --ha' : ''}, ${total} faults (${faultList}), ${outcomes.length} jobs (${a.succeeded} succeeded, ${a.failedAsExpected} failed as expected, ${a.cancelled} cancelled${other ? `, failed otherwise: ${other}` : ''}), ` +
      `${a.rows} rows, lost ${a.lost.length}, doubled ${a.doubled.length}, stuck ${a.stuck.length}, ledger mismatches ${a.mismatches.length} (seed ${seed})`,
  );
  exitCode = a.lost.length + a.doubled.length + a.stuck.length + a.mismatches.length === 0 ? 0 : 1;
} finally {
  await fleet.stop().catch(() => {});
  await db.end();
  await rm(s3Dir, { recursive: true, force: true });
}
process.exit(exitCode);

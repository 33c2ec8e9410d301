// A job whose worker is killed while its stage fills, then cancelled: the worker that picks the job up
// next closes it as cancelled and drops the stage the killed one left (a stage is dropped by the run
// that made it, or by the retry's createStage; a cancelled job has no retry). Plain PostgreSQL: the rule
// is the same on Citus, and the test kills a process, not a database node.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { Upload } from '@aws-sdk/lib-storage';
import { createHarness, postJob, serviceEnv, waitForJob, type Harness } from './helpers/harness.js';
import { pricePaidStream, ukPriceTableSql } from '../src/gen/pricePaid.js';

const fast = { lockDurationMs: 3000, stalledIntervalMs: 1000, reconcileIntervalMs: 1000 };

function workerProcess(h: Harness): ChildProcess {
  // node itself, not the tsx wrapper: SIGKILL must hit the process that holds the COPY.
  return spawn(process.execPath, ['--import', 'tsx', 'src/entry.ts', 'worker'], {
    env: { ...process.env, ...serviceEnv(h), LOCK_DURATION_MS: '3000', STALLED_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '1000', PROGRESS_INTERVAL_MS: '100', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cases = [
  { name: 'atomicity "job" (its stage)', spec: (table: string) => ({ target: { table }, atomicity: 'job' }), stage: (id: string) => `stage_${id.replace(/-/g, '')}` },
  { name: 'merge (its merge stage)', spec: (table: string) => ({ target: { table }, mode: 'merge', key: ['transaction_unique_identifier'], operation: { column: 'record_status', delete: ['D'], upsert: ['A', 'C'] } }), stage: (id: string) => `merge_${id.replace(/-/g, '')}` },
];

for (const c of cases) {
  t.test(`${c.name}: worker killed mid-load, job cancelled: the next worker closes it and drops the stage; the target holds nothing of it`, async (t) => {
    const h = await createHarness(fast);
    t.teardown(() => h.close());
    const rows = 1_000_000;
    const table = `${h.schema}.uk_price`;
    await h.db.query(ukPriceTableSql(table));
    await new Upload({ client: h.s3Client, params: { Bucket: h.bucket, Key: 'pp.csv', Body: pricePaidStream(rows, 77) } }).done();
    const api = await h.start('api');
    const worker = workerProcess(h);
    const exited = new Promise((r) => worker.on('exit', (_code, signal) => r(signal)));
    const { status, body } = await postJob(api.url!, { source: { url: `s3://${h.bucket}/pp.csv` }, ...c.spec(table) });
    t.equal(status, 202, JSON.stringify(body));
    const stage = c.stage(body.id);
    const stageRows = async () => {
      const { rows: r } = await h.db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'ingest_stage' AND tablename = $1`, [stage]);
      return r[0].n;
    };
    await until('the stage to exist and the load to be under way', async () => (await stageRows()) === 1 && ((await h.db.query('SELECT bytes_read FROM ingest.jobs WHERE id = $1', [body.id])).rows[0]?.bytes_read ?? 0) > 0);
    worker.kill('SIGKILL');
    t.equal(await exited, 'SIGKILL', 'the worker was killed while the stage filled');
    t.equal(await stageRows(), 1, 'the killed worker left its stage');

    const cancel = await fetch(`${api.url}/jobs/${body.id}/cancel`, { method: 'POST' });
    t.equal(cancel.status, 202, 'the cancel is taken');
    await h.start('worker');
    const job = await waitForJob(api.url!, body.id, undefined, 60_000);
    t.equal(job.status, 'cancelled');
    await until('the stage to be dropped', async () => (await stageRows()) === 0, 10_000).catch(() => {});
    t.equal(await stageRows(), 0, 'no stage of the job is left in ingest_stage');
    const { rows: inTarget } = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
    t.equal(inTarget[0].n, 0, 'the target holds no row of the cancelled job');
  });
}

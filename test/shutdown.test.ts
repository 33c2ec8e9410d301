import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHarness, postJob, serviceEnv, slowTable, waitForJob, type Harness } from './helpers/harness.js';
import { pricePaidCsv } from '../src/gen/pricePaid.js';
import { startService } from '../src/service.js';
import { createLogger } from '../src/log.js';

function startProcess(h: Harness, role: string, extra: Record<string, string> = {}): ChildProcess {
  return spawn('node_modules/.bin/tsx', ['src/entry.ts', role], {
    env: {
      ...process.env,
      ...serviceEnv(h),
      PROGRESS_INTERVAL_MS: '100',
      LOG_LEVEL: 'warn',
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitForCopy(h: Harness, table: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE $1 AND state = 'active'`, [`COPY %${table}%`]);
    if (rows[0].n > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the COPY never started');
}

t.test('SIGTERM lets the running COPY finish and commit, then the worker exits 0', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await slowTable(h, 'finish', 1);
  const url = await h.put('finish.csv', pricePaidCsv(1_500, 31));
  const api = await h.start('api');
  const worker = startProcess(h, 'worker', { SHUTDOWN_TIMEOUT_MS: '60000' });
  const exited = new Promise<number | null>((r) => worker.on('exit', (code) => r(code)));
  const { body } = await postJob(api.url!, { source: { url }, target: { table: `${h.schema}.finish` } });
  await waitForCopy(h, 'finish');
  worker.kill('SIGTERM');
  t.equal(await exited, 0, 'worker exited cleanly');
  const job = await waitForJob(api.url!, body.id, ['succeeded', 'failed', 'cancelled'], 5_000);
  t.equal(job.status, 'succeeded');
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.finish`);
  t.equal(rows[0].n, 1_500);
});

t.test('SIGTERM past the shutdown timeout rolls the COPY back; the next worker loads the file exactly once', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await slowTable(h, 'rollback', 2);
  const url = await h.put('rollback.csv', pricePaidCsv(2_000, 32));
  const api = await h.start('api');
  const worker = startProcess(h, 'worker', { SHUTDOWN_TIMEOUT_MS: '300' });
  const exited = new Promise<number | null>((r) => worker.on('exit', (code) => r(code)));
  const { body } = await postJob(api.url!, { source: { url }, target: { table: `${h.schema}.rollback` } });
  await waitForCopy(h, 'rollback');
  worker.kill('SIGTERM');
  t.equal(await exited, 0);
  const mid = await waitForJob(api.url!, body.id, ['queued', 'succeeded', 'failed'], 5_000);
  t.equal(mid.status, 'queued', 'the job waits for another attempt');
  t.equal(mid.runs[0].error.code, 'SHUTTING_DOWN');
  const none = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.rollback`);
  t.equal(none.rows[0].n, 0, 'the interrupted COPY left no rows');

  await h.db.query(`DROP TRIGGER nap ON ${h.schema}.rollback`);
  await h.start('worker');
  const job = await waitForJob(api.url!, body.id, ['succeeded', 'failed'], 30_000);
  t.equal(job.status, 'succeeded');
  t.equal(job.runs.length, 2);
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.rollback`);
  t.equal(rows[0].n, 2_000);
});

t.test('a worker stopped the moment it started ends cleanly, forty times over', async (t) => {
  // Its Redis connections still initialising when it was closed once failed with "Connection is closed"
  // as an 'error' event nobody heard, which ends a process (and failed this test on the first start).
  const h = await createHarness();
  t.teardown(() => h.close());
  for (let i = 0; i < 40; i++) {
    const svc = await startService({ role: 'worker', config: h.config, log: createLogger('error') });
    await svc.stop();
  }
  t.pass('forty starts and stops');
});

// A job's row and its run's row are written together by three statements: startRun, recordProgress (the
// progress ticker) and finishRun. A progress write may still be in flight when the run ends; the two
// must not deadlock, and the end's counts must stand.
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { createPool, type Pool } from '../src/db/pool.js';
import { recordRunEnd } from '../src/load/runEnd.js';
import { finishRun } from '../src/sql/finishRun.js';
import { recordProgress } from '../src/sql/recordProgress.js';
import { startRun } from '../src/sql/startRun.js';
import { createHarness, postJob, testDatabaseUrl } from './helpers/harness.js';

/** Resolves once a backend with this application_name waits on a lock (or after `ms`, with false). */
async function waitsOnLock(db: Pool, applicationName: string, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const { rows } = await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [applicationName]);
    if (rows.length > 0) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/**
 * A job submitted to an API with no worker, and a run started for it by hand on `ending`, a pool of one
 * connection named `endName` (so a test can see it wait on a lock): the state a worker is in as it loads.
 */
async function runningJob(t: Test, endName: (schema: string) => string) {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.target (a int)`);
  const api = await h.start('api'); // no worker: the job stays queued until the test runs it
  const url = await h.put('one.csv', '1\n');
  const { body } = await postJob(api.url!, { source: { url }, target: { table: `${h.schema}.target` } });
  const jobId: string = body.id;
  const runId = randomUUID();
  const name = endName(h.schema);
  const ending = createPool(testDatabaseUrl, { max: 1, applicationName: name });
  t.teardown(() => ending.end());
  t.ok(await startRun(ending, jobId, runId, 'test-worker'), 'the run started');
  return { h, jobId, runId, ending, endName: name };
}

t.test('a progress write in flight when the run ends: neither fails, the end counts stand', async (t) => {
  const { h, jobId, runId, ending } = await runningJob(t, (schema) => `run-rows-end-${schema}`);
  const progressName = `run-rows-progress-${h.schema}`;
  const progressing = createPool(testDatabaseUrl, { max: 1, applicationName: progressName });
  t.teardown(() => progressing.end());

  // finishRun's transaction is held after its first write (BEGIN, then one UPDATE) until the progress
  // write waits on a lock it holds: the interleaving the ticker meets when it fires as the run ends.
  let statements = 0;
  let firstWritten!: () => void;
  const afterFirstWrite = new Promise<void>((r) => (firstWritten = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const held = {
    connect: async () => {
      const client = await ending.connect();
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        if (++statements !== 3) return query(...args);
        firstWritten();
        return gate.then(() => query(...args));
      };
      return client;
    },
  } as unknown as Pool;

  const ended = finishRun(held, {
    jobId, runId, runStatus: 'succeeded', jobStatus: 'succeeded', rowsLoaded: 1575, bytesRead: 212083, bytesTotal: 212083, timings: {},
  });
  await afterFirstWrite;
  const progress = recordProgress(progressing, jobId, runId, 50, { bytesRead: 100, bytesTotal: null, rowsLoaded: 10 });
  t.ok(await waitsOnLock(h.db, progressName), 'the progress write waits on the ending transaction');
  release();
  const [end, tick] = await Promise.allSettled([ended, progress]);
  t.equal(end.status, 'fulfilled', end.status === 'rejected' ? `the run's end failed: ${String(end.reason)}` : 'the run ended');
  t.equal(tick.status, 'fulfilled', tick.status === 'rejected' ? `the progress write failed: ${String(tick.reason)}` : 'the progress write returned');

  const job = (await h.db.query(`SELECT status, rows_loaded::int AS rows, bytes_read::int AS bytes FROM ingest.jobs WHERE id = $1`, [jobId])).rows[0];
  t.same(job, { status: 'succeeded', rows: 1575, bytes: 212083 }, "the job keeps the end's counts, not the late progress");
  const run = (await h.db.query(`SELECT status, rows_loaded::int AS rows, samples FROM ingest.runs WHERE id = $1`, [runId])).rows[0];
  t.equal(run.status, 'succeeded', 'the run succeeded');
  t.equal(run.rows, 1575, "the run keeps the end's rows");
  t.same(run.samples.at(-1).slice(1), [1575, 212083], "the run's last sample is its end");
});

t.test("a succeeded run's end that loses a deadlock is written again: the run does not fail after its files committed", async (t) => {
  const { h, jobId, runId, ending, endName } = await runningJob(t, (schema) => `run-end-${schema}`);
  const other = await h.db.connect();
  t.teardown(() => other.release());

  // Another transaction takes the two rows in the opposite order: the run's, then (once the end waits
  // on it) the job's. The end waited first, so its deadlock check runs first and it is the one killed.
  await other.query('BEGIN');
  await other.query(`UPDATE ingest.runs SET timings = timings WHERE id = $1`, [runId]);
  let attempts = 0;
  const ended = recordRunEnd(() => {
    attempts++;
    return finishRun(ending, { jobId, runId, runStatus: 'succeeded', jobStatus: 'succeeded', rowsLoaded: 7, bytesRead: 70, bytesTotal: 70, timings: {} });
  }, new AbortController().signal, 50);
  t.ok(await waitsOnLock(h.db, endName), "the end waits on the other transaction's lock");
  // The other transaction goes on once the end is killed; while it holds its locks the end's next try waits.
  await t.resolves(other.query(`UPDATE ingest.jobs SET updated_at = updated_at WHERE id = $1`, [jobId]), 'the end, not the other transaction, lost the deadlock');
  await other.query('ROLLBACK');
  await t.resolves(ended, 'the end is written');
  t.equal(attempts, 2, 'after losing the deadlock once');
  const job = (await h.db.query(`SELECT status, rows_loaded::int AS rows FROM ingest.jobs WHERE id = $1`, [jobId])).rows[0];
  t.same(job, { status: 'succeeded', rows: 7 }, 'the job succeeded with its counts');
  const run = (await h.db.query(`SELECT status, rows_loaded::int AS rows FROM ingest.runs WHERE id = $1`, [runId])).rows[0];
  t.same(run, { status: 'succeeded', rows: 7 }, 'and so did the run');
});

t.test('a run end that fails for a reason of its own (not the database being away) is not tried again', async (t) => {
  let attempts = 0;
  await t.rejects(
    recordRunEnd(async () => {
      attempts++;
      throw new TypeError('a bug, not an outage');
    }, new AbortController().signal, 10),
    TypeError,
  );
  t.equal(attempts, 1);
});

import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';
import { insertJob } from '../src/sql/insertJob.js';
import { startRun } from '../src/sql/startRun.js';
import { finishRun } from '../src/sql/finishRun.js';
import type { JobSpec } from '../src/jobs/spec.js';

t.test('a header holding a NUL fails its job once, with a clear code and a readable message', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.p (a int, b text)`);
  const url = await h.put('nul.csv', 'a\u0000b,b\n1,x\n');
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, format: { header: true }, target: { table: `${h.schema}.p`, columns: 'header' } });
  const job = await waitForJob(svc.url!, res.body.id, undefined, 30_000);
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'TARGET_COLUMN_NOT_FOUND');
  t.match(job.error.message, /the header names "a\\u0000b", not columns of/);
  t.same(job.error.details.missing, ['a\u2400b'], 'the NUL shows as the sign for it');
  t.equal(job.attempts, 1, 'one attempt: no restart loop');
  t.same(job.runs.map((r: any) => [r.status, r.error?.code]), [['failed', 'TARGET_COLUMN_NOT_FOUND']]);
});

t.test('a run end PostgreSQL cannot store still ends the job: failed, RUN_END_NOT_RECORDED, saying how the run ended', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const id = randomUUID();
  const spec = { source: { url: 's3://landing/x.csv' }, target: { table: `${h.schema}.p` } } as unknown as JobSpec;
  await insertJob(h.db, { id, spec, target: `${h.schema}.p`, sourceUrl: 's3://landing/x.csv', queue: h.config.queueName, specHash: 'h' });
  const runId = randomUUID();
  t.ok(await startRun(h.db, id, runId, 'test-worker'));
  // Details no JSON can hold (a BigInt): the write of the end itself fails.
  await finishRun(h.db, {
    jobId: id, runId, runStatus: 'failed', jobStatus: 'queued', rowsLoaded: 3, bytesRead: 40, bytesTotal: null, timings: { totalMs: 5 },
    error: { code: 'DATA_REJECTED', message: 'bad record', details: { line: 2n } },
  });
  const { rows: [job] } = await h.db.query('SELECT status, error, rows_loaded FROM ingest.jobs WHERE id = $1', [id]);
  t.equal(job.status, 'failed', 'ended for good, not queued again');
  t.equal(job.error.code, 'RUN_END_NOT_RECORDED');
  t.match(job.error.message, /^the run ended failed \(DATA_REJECTED\), but how it ended could not be stored: .*BigInt/);
  t.same(job.error.details, { runStatus: 'failed', code: 'DATA_REJECTED' });
  t.equal(Number(job.rows_loaded), 3);
  const { rows: runs } = await h.db.query('SELECT status, error->>\'code\' AS code FROM ingest.runs WHERE job_id = $1', [id]);
  t.same(runs, [{ status: 'failed', code: 'RUN_END_NOT_RECORDED' }]);
});

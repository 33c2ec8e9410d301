import t from 'tap';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const someId = '5d0c6f1e-3a51-4a4e-9a43-1c2f1f0a9b11';

t.test('requests whose values PostgreSQL would refuse are 4xx answers in the error shape, before any query', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.p (a text)`);
  const url = await h.put('p.ndjson', '{"a":"x"}\n');
  const svc = await h.start();
  const job = await postJob(svc.url!, { source: { url }, format: { type: 'ndjson' }, target: { table: `${h.schema}.p` } });
  t.equal(job.status, 202);
  await waitForJob(svc.url!, job.body.id);
  const id = job.body.id as string;
  const ndjsonWithNulKey = { source: { url }, format: { type: 'ndjson' }, target: { table: `${h.schema}.p`, columns: { 'a\u0000b': 'a' } } };

  // [what, method, path, body, status, code (JSON) or the page's words (dashboard), details.field]
  const cases: Array<[string, string, string, unknown, number, string, string?]> = [
    ['job list cursor with a time PostgreSQL cannot read', 'GET', `/jobs?cursor=${b64(`5|${someId}`)}`, undefined, 400, 'INVALID_REQUEST', 'cursor'],
    ['job list cursor with an all-dash uuid', 'GET', `/jobs?cursor=${b64('2026-01-01T00:00:00.000Z|------------------------------------')}`, undefined, 400, 'INVALID_REQUEST', 'cursor'],
    ['job list cursor in year 275760', 'GET', `/jobs?cursor=${b64(`${new Date(8.64e15).toISOString()}|${someId}`)}`, undefined, 400, 'INVALID_REQUEST', 'cursor'],
    ['schedule filter holding a NUL', 'GET', '/jobs?schedule=%00', undefined, 400, 'INVALID_REQUEST', '/schedule'],
    ['rejects cursor beyond int8', 'GET', `/jobs/${id}/rejects?cursor=9999999999999999999`, undefined, 400, 'INVALID_REQUEST', 'cursor'],
    ['files attempt beyond int4', 'GET', `/jobs/${id}/files?attempt=3000000000`, undefined, 400, 'INVALID_REQUEST', '/attempt'],
    ['files cursor whose key holds a NUL', 'GET', `/jobs/${id}/files?cursor=${b64('1|a\u0000b')}`, undefined, 400, 'INVALID_REQUEST', '/cursor'],
    ['files cursor whose attempt is beyond int4', 'GET', `/jobs/${id}/files?cursor=${b64('3000000000|a')}`, undefined, 400, 'INVALID_REQUEST', '/cursor'],
    ['table name holding a NUL', 'GET', '/tables/%00', undefined, 400, 'INVALID_REQUEST', '/name'],
    ['analyze of a table name holding a NUL', 'POST', '/tables/a%00b/analyze', {}, 400, 'INVALID_REQUEST', '/name'],
    ['dashboard: job list cursor with a time PostgreSQL cannot read', 'GET', `/ui?cursor=${b64(`5|${someId}`)}`, undefined, 400, 'Bad request'],
    ['dashboard: job list cursor with an all-dash uuid', 'GET', `/ui?cursor=${b64('2026-01-01T00:00:00.000Z|------------------------------------')}`, undefined, 400, 'Bad request'],
    ['dashboard: job list cursor in year 275760', 'GET', `/ui?cursor=${b64(`${new Date(8.64e15).toISOString()}|${someId}`)}`, undefined, 400, 'Bad request'],
    ['dashboard: files cursor whose key holds a NUL', 'GET', `/ui/jobs/${id}?files=${b64('1|a\u0000b')}`, undefined, 400, 'Bad request'],
    ['POST /jobs: target.columns with a NUL in a field name', 'POST', '/jobs', ndjsonWithNulKey, 400, 'INVALID_SPEC', '/target/columns'],
    ['POST /jobs: target.columns with half a surrogate pair in a field name', 'POST', '/jobs', { ...ndjsonWithNulKey, target: { table: `${h.schema}.p`, columns: { 'a\ud800': 'a' } } }, 400, 'INVALID_SPEC', '/target/columns'],
    ['POST /schedules: target.columns with a NUL in a field name', 'POST', '/schedules', { name: 'nul-key', everySeconds: 3600, job: ndjsonWithNulKey }, 400, 'INVALID_SPEC', '/job/target/columns'],
  ];
  for (const [what, method, path, body, status, code, field] of cases) {
    const res = await fetch(`${svc.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    t.equal(res.status, status, `${what}: ${res.status} ${text.slice(0, 300)}`);
    if (path.startsWith('/ui')) {
      t.match(text, code, `${what}: the dashboard's error page`);
      continue;
    }
    const error = JSON.parse(text).error;
    t.same(Object.keys(error).sort(), ['code', 'details', 'message'], `${what}: the error shape`);
    t.equal(error.code, code, what);
    t.equal(error.details.field, field, `${what}: names the field`);
    t.notMatch(error.message, /\u0000/, `${what}: no NUL in the answer`);
  }
  const stored = await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs WHERE queue = $1', [h.config.queueName]);
  t.equal(stored.rows[0].n, 1, 'no job stored but the first');
  const schedules = await h.db.query(`SELECT count(*)::int AS n FROM ingest.schedules WHERE name = 'nul-key'`);
  t.equal(schedules.rows[0].n, 0, 'no schedule stored');
});

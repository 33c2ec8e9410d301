import t from 'tap';
import { createHarness, postJob, untilNotShedding } from './helpers/harness.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/service.js';
import { createQueue } from '../src/queue/queue.js';

t.test('a token sent in the query string is refused and not written to the request log', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const lines: string[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(line) });
  const svc = await startService({ role: 'api', config: { ...h.config, apiTokens: ['the-real-token'] }, log });
  t.teardown(() => svc.stop());
  await untilNotShedding(svc.url!);
  const secret = 'query-secret-0451';
  for (const query of [`token=${secret}&limit=5`, `limit=5&access_token=${secret}`, `api%5Fkey=${secret}`]) {
    const res = await fetch(`${svc.url}/jobs?${query}`);
    t.equal(res.status, 401, `${query}: ${res.status}`);
    t.equal(((await res.json()) as any).error.code, 'UNAUTHORIZED');
  }
  const logged = lines.map((l) => JSON.parse(l));
  const urls = logged.filter((l) => l.msg === 'incoming request').map((l) => l.req.url);
  t.same(urls.slice(-3), ['/jobs?token=redacted&limit=5', '/jobs?limit=5&access_token=redacted', '/jobs?api%5Fkey=redacted']);
  t.notOk(lines.some((l) => l.includes(secret)), 'the secret is nowhere in the log');
});

t.test('two services with different queues on one database do not share Idempotency-Keys', async (t) => {
  const h = await createHarness();
  const otherQueue = `${h.config.queueName}-other`;
  t.teardown(async () => {
    await h.db.query(`UPDATE ingest.jobs SET status = 'cancelled' WHERE queue = $1`, [otherQueue]);
    const queue = createQueue({ ...h.config, queueName: otherQueue });
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await h.close();
  });
  await h.db.query(`CREATE TABLE ${h.schema}.p (a text)`);
  const one = await h.start('api');
  const two = await h.start('api', { queueName: otherQueue });
  const spec = { source: { url: 's3://landing/p.csv' }, target: { table: `${h.schema}.p` } };
  const key = { 'idempotency-key': 'nightly-2026-12-07' };
  const first = await postJob(one.url!, spec, key);
  const second = await postJob(two.url!, spec, key);
  t.equal(first.status, 202);
  t.equal(second.status, 202, 'the other queue\'s service stores a job of its own');
  t.not(second.body.id, first.body.id);
  const again = await postJob(one.url!, spec, key);
  t.same([again.status, again.body.id], [200, first.body.id], 'within one queue the key still returns its job');
  const { rows } = await h.db.query('SELECT queue FROM ingest.jobs WHERE idempotency_key = $1 AND queue IN ($2, $3) ORDER BY created_at', [key['idempotency-key'], h.config.queueName, otherQueue]);
  t.same(rows.map((r) => r.queue), [h.config.queueName, otherQueue]);
});

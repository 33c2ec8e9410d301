// API_TOKENS: Bearer tokens on every route but the probes, HTTP Basic (token as password) for the
// browser pages with a Basic challenge there, and no secret in any log line.
import t from 'tap';
import { Writable } from 'node:stream';
import { presentedToken, tokenChecker } from '../src/api/auth.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { createLogger, describeConfig } from '../src/log.js';
import { startService } from '../src/service.js';
import { createHarness, postJob } from './helpers/harness.js';

const tokenA = 'token-a-5f0c1e9a2b7d4c3e8f61';
const tokenB = 'token-b-0a9b8c7d6e5f4a3b2c1d';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

t.test('with API_TOKENS set every route needs a valid Bearer token; the probes need none', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api', { apiTokens: [tokenA, tokenB] });

  const none = await fetch(`${svc.url}/jobs`);
  t.equal(none.status, 401);
  t.equal(none.headers.get('www-authenticate'), 'Bearer realm="citus-ingest"');
  const noneBody = (await none.json()) as any;
  t.equal(noneBody.error.code, 'UNAUTHORIZED');
  t.match(noneBody.error.message, /Authorization: Bearer/);

  const wrong = await fetch(`${svc.url}/jobs`, { headers: bearer(`${tokenA}x`) });
  t.equal(wrong.status, 401);
  t.equal(((await wrong.json()) as any).error.code, 'UNAUTHORIZED');
  t.equal((await fetch(`${svc.url}/jobs`, { headers: { authorization: tokenA } })).status, 401, 'a bare token is no scheme');

  for (const token of [tokenA, tokenB]) t.equal((await fetch(`${svc.url}/jobs`, { headers: bearer(token) })).status, 200, 'each configured token works');
  t.equal((await fetch(`${svc.url}/jobs`, { headers: { authorization: `bearer   ${tokenB}` } })).status, 200, 'the scheme is case-insensitive');

  const submitted = await postJob(svc.url!, { source: { url: 's3://landing/auth.csv' }, target: { table: `${h.schema}.none` } }, bearer(tokenA));
  t.equal(submitted.status, 202);
  const unauthorizedPost = await postJob(svc.url!, { source: { url: 's3://landing/auth2.csv' }, target: { table: `${h.schema}.none` } });
  t.equal(unauthorizedPost.status, 401);
  const stored = await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs WHERE queue = $1', [h.config.queueName]);
  t.equal(stored.rows[0].n, 1, 'the unauthorized POST stored no job');

  t.equal((await fetch(`${svc.url}/healthz`)).status, 200);
  t.equal((await fetch(`${svc.url}/readyz`)).status, 200);
  t.equal((await fetch(`${svc.url}/metrics`)).status, 401, '/metrics is protected');
  t.equal((await fetch(`${svc.url}/metrics`, { headers: bearer(tokenA) })).status, 200);
  t.equal((await fetch(`${svc.url}/nowhere`)).status, 401, 'unknown paths do not reveal which routes exist');
  t.equal((await fetch(`${svc.url}/healthz?verbose=1`)).status, 200, 'a query string does not matter');
  t.equal((await fetch(`${svc.url}/healthz/more`)).status, 401, 'only the probe routes themselves are open');
});

t.test('browser pages take HTTP Basic with the token as password and ask for it with a Basic challenge', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api', { apiTokens: [tokenA] });

  for (const path of ['/admin/queues', '/docs', '/docs/json', '/ui']) {
    const res = await fetch(`${svc.url}${path}`, { redirect: 'manual' });
    t.equal(res.status, 401, `${path} needs credentials`);
    t.match(res.headers.get('www-authenticate'), /^Basic realm="citus-ingest"/, `${path} asks the browser for Basic`);
    t.equal(((await res.json()) as any).error.code, 'UNAUTHORIZED');
  }
  const board = await fetch(`${svc.url}/admin/queues`, { headers: basic('anyone', tokenA) });
  t.equal(board.status, 200);
  t.match(await board.text(), /<html/i, 'the bull-board page');
  const queues = await fetch(`${svc.url}/admin/queues/api/queues`, { headers: basic('', tokenA) });
  t.equal(queues.status, 200);
  t.match(JSON.stringify(await queues.json()), h.config.queueName, "the board shows this service's queue");
  t.equal((await fetch(`${svc.url}/admin/queues`, { headers: bearer(tokenA) })).status, 200, 'Bearer works there too');
  t.equal((await fetch(`${svc.url}/ui`, { headers: basic('me', tokenA) })).status, 200, 'the dashboard opens with Basic');
  t.equal((await fetch(`${svc.url}/admin/queues`, { headers: basic('anyone', 'not-the-token-at-all') })).status, 401);
  t.equal((await fetch(`${svc.url}/admin/queues`, { headers: basic(tokenA, '') })).status, 401, 'the token goes in the password, not the user');

  const navigation = await fetch(`${svc.url}/jobs/00000000-0000-4000-8000-000000000000/rejects`, { headers: { accept: 'text/html,application/xhtml+xml' } });
  t.equal(navigation.status, 401);
  t.match(navigation.headers.get('www-authenticate'), /^Basic /, 'a browser following a link to the JSON API is asked for Basic too');

  const doc = await fetch(`${svc.url}/docs/json`, { headers: basic('me', tokenA) });
  t.equal(doc.status, 200);
  const openapi = (await doc.json()) as any;
  t.same(Object.keys(openapi.components.securitySchemes).sort(), ['basic', 'bearer', 'watchSecret'], 'the OpenAPI document declares the schemes');
  t.equal((await fetch(`${svc.url}/docs`, { headers: basic('me', tokenA), redirect: 'manual' })).status < 400, true, 'the docs page opens');
});

t.test('without API_TOKENS the API stays open', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api');
  t.equal((await fetch(`${svc.url}/jobs`)).status, 200);
  t.equal((await fetch(`${svc.url}/metrics`)).status, 200);
  t.equal((await fetch(`${svc.url}/admin/queues`)).status, 200);
});

t.test('tokens, the S3 secret and the database password never reach the log', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const svc = await startService({ role: 'all', config: { ...h.config, apiTokens: [tokenA, tokenB] }, log: createLogger('trace', sink) });
  t.teardown(() => svc.stop());
  await fetch(`${svc.url}/jobs`, { headers: bearer(tokenA) });
  await fetch(`${svc.url}/jobs`, { headers: bearer(`${tokenB}-wrong`) });
  await fetch(`${svc.url}/admin/queues`, { headers: basic('ops', tokenB) });
  await fetch(`${svc.url}/jobs`);
  // Whatever logs a request's headers gets them censored.
  svc.log.info({ req: { headers: bearer(tokenA) }, config: svc.config }, 'a careless line');
  await new Promise((r) => setTimeout(r, 100));

  t.match(out, /"msg":"starting"/, 'the configuration was logged at start');
  t.match(out, /"apiTokens":"2 set"/);
  t.match(out, /unauthorized request/);
  t.match(out, /"authorization":"\[redacted\]"/);
  for (const secret of [tokenA, tokenB, Buffer.from(`ops:${tokenB}`).toString('base64'), h.config.s3SecretAccessKey!]) {
    t.notOk(out.includes(secret), `the log does not hold ${secret.slice(0, 8)}...`);
  }
});

t.test('the configuration as logged hides passwords, keys and tokens', async (t) => {
  const config = loadConfig({
    DATABASE_URL: 'postgres://ingest:pg-pass-4711@db.example:5432/app?sslmode=require&sslpassword=pg-sslpass-4711',
    REDIS_URL: 'redis://:redis-pass-4711@redis.example:6379/0',
    S3_ACCESS_KEY_ID: 'AKIAEXAMPLEKEY4711',
    S3_SECRET_ACCESS_KEY: 's3-secret-4711',
    API_TOKENS: `${tokenA},${tokenB}`,
  });
  const text = JSON.stringify(describeConfig(config));
  for (const secret of ['pg-pass-4711', 'pg-sslpass-4711', 'redis-pass-4711', 'AKIAEXAMPLEKEY4711', 's3-secret-4711', tokenA, tokenB]) t.notOk(text.includes(secret), secret);
  t.match(text, /postgres:\/\/ingest:redacted@db\.example:5432\/app\?sslmode=require/, 'where the database is stays visible');
  t.match(text, /"apiTokens":"2 set"/);
  t.match(text, /"s3SecretAccessKey":"\[redacted\]"/);
});

t.test('API_TOKENS: short tokens are refused without echoing them; credentials parse', async (t) => {
  t.throws(() => loadConfig({ API_TOKENS: 'short-tok' }), ConfigError);
  try {
    loadConfig({ API_TOKENS: `${tokenA},short-tok` });
  } catch (err) {
    t.match((err as Error).message, /API_TOKENS must be/);
    t.notOk((err as Error).message.includes('short-tok'));
  }
  t.same(loadConfig({ API_TOKENS: ` ${tokenA} , ${tokenB},` }).apiTokens, [tokenA, tokenB]);
  t.same(loadConfig({}).apiTokens, []);

  t.equal(presentedToken(`Bearer ${tokenA}`), tokenA);
  t.equal(presentedToken(basic('u', `p:with:colons-${tokenA}`).authorization), `p:with:colons-${tokenA}`);
  t.equal(presentedToken('Basic bm9jb2xvbg=='), undefined, 'Basic without a colon');
  t.equal(presentedToken('Digest abc'), undefined);
  t.equal(presentedToken(undefined), undefined);
  const valid = tokenChecker([tokenA, tokenB]);
  t.ok(valid(tokenA));
  t.ok(valid(tokenB));
  t.notOk(valid(tokenA.slice(0, -1)));
  t.notOk(valid(''));
});

// One error shape everywhere: { error: { code, message, details } } with a code from the catalogue whose
// status is the answer's, for Fastify's and Node's own errors and bull-board's routes too; /readyz tells
// a caller without a token which dependency is down, not why.
import t from 'tap';
import tap from 'tap';
import { request } from 'node:http';
import { errorCodes } from '../src/errors.js';
import { createHarness } from './helpers/harness.js';

const token = 'token-e-7d1c0b9a8f6e5d4c3b2a';
const auth = { authorization: `Bearer ${token}` };

function checkShape(t: Pick<typeof tap, 'equal' | 'same' | 'type'>, status: number, body: any, code: string, what: string): void {
  t.equal(status, errorCodes[code as keyof typeof errorCodes]?.status, `${what}: status ${status} is ${code}'s`);
  t.same(Object.keys(body ?? {}), ['error'], `${what}: only "error" at the top`);
  t.same(Object.keys(body?.error ?? {}).sort(), ['code', 'details', 'message'], `${what}: code, message, details`);
  t.equal(body?.error?.code, code, `${what}: code`);
  t.type(body?.error?.message, 'string');
  t.type(body?.error?.details, 'object');
}

/** A raw request: fetch cannot send some of what is tested here. */
function raw(url: string, path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: any }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.once('error', reject);
    req.end();
  });
}

t.test("Fastify's and Node's own errors come in the one shape", async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api', { apiTokens: [token] });
  const get = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${svc.url}${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });
    return { status: res.status, body: (await res.json()) as any };
  };

  const longId = 'a'.repeat(500);
  const long = await get(`/jobs/${longId}`);
  checkShape(t, long.status, long.body, 'URL_TOO_LONG', '414 long path parameter');
  t.equal(long.body.error.details.limit, 100);
  t.notOk(JSON.stringify(long.body).includes(longId), 'the long parameter is not echoed');
  checkShape(t, ...Object.values(await get(`/schedules/${longId}`)) as [number, any], 'URL_TOO_LONG', '414 on another route');

  const missing = await get('/nowhere?x=1');
  checkShape(t, missing.status, missing.body, 'NOT_FOUND', '404 no route');
  t.match(missing.body.error.message, /GET \/nowhere$/);

  const spec = JSON.stringify({ source: { url: 's3://landing/a.csv' }, target: { table: `${h.schema}.x` } });
  const xml = await get('/jobs', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<job/>' });
  checkShape(t, xml.status, xml.body, 'UNSUPPORTED_MEDIA_TYPE', '415 content type');
  const badJson = await get('/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: spec.slice(0, -1) });
  checkShape(t, badJson.status, badJson.body, 'INVALID_SPEC', '400 bad JSON');
  t.equal(badJson.body.error.details.fastifyCode, 'FST_ERR_CTP_INVALID_JSON_BODY');
  const big = await get('/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(1_100_000) }) });
  checkShape(t, big.status, big.body, 'BODY_TOO_LARGE', '413 body too large');
  const badUrl = await raw(svc.url!, '/jobs/%E0%A4%A', auth);
  checkShape(t, badUrl.status, badUrl.body, 'INVALID_REQUEST', '400 malformed URL');
  const headers = await raw(svc.url!, '/jobs', { ...auth, 'x-padding': 'p'.repeat(20_000) });
  checkShape(t, headers.status, headers.body, 'HEADERS_TOO_LARGE', '431 headers too large');
  const { rows } = await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs WHERE queue = $1', [h.config.queueName]);
  t.equal(rows[0].n, 0, 'none of them stored a job');
});

t.test("bull-board's errors come in the one shape", async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api', { apiTokens: [token] });
  const badPage = await fetch(`${svc.url}/admin/queues/api/queues?activeQueue=nope&page=x`, { headers: auth });
  const badPageBody = (await badPage.json()) as any;
  checkShape(t, badPage.status, badPageBody, 'INVALID_REQUEST', 'bull-board 400');
  t.equal(badPageBody.error.details.field, 'page', 'bull-board names the field');
  const noQueue = await fetch(`${svc.url}/admin/queues/api/queues/nope/retry/failed`, { method: 'PUT', headers: auth });
  const noQueueBody = (await noQueue.json()) as any;
  checkShape(t, noQueue.status, noQueueBody, 'NOT_FOUND', 'bull-board 404');
  t.equal(noQueueBody.error.details.key, 'ERRORS.QUEUE_NOT_FOUND');
  const ok = await fetch(`${svc.url}/admin/queues/api/queues`, { headers: auth });
  t.equal(ok.status, 200, 'a good request is untouched');
  t.ok(Array.isArray(((await ok.json()) as any).queues));
});

t.test('/readyz says which dependency is down; only a valid token learns why', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  // Object storage on a port nothing listens on.
  const svc = await h.start('api', { apiTokens: [token], s3Endpoint: 'http://127.0.0.1:9' });
  const anonymous = await fetch(`${svc.url}/readyz`);
  const text = await anonymous.text();
  t.equal(anonymous.status, 503);
  const body = JSON.parse(text);
  t.same(body, { status: 'not ready', checks: { database: 'ok', redis: 'ok', objectStorage: 'down' } });
  t.notMatch(text, /127\.0\.0\.1|ECONNREFUSED|:9\b|timed out/, 'no address or error text');
  const wrong = (await (await fetch(`${svc.url}/readyz`, { headers: { authorization: 'Bearer not-the-token-at-all' } })).json()) as any;
  t.equal(wrong.reasons, undefined, 'a wrong token learns no more');
  const trusted = (await (await fetch(`${svc.url}/readyz`, { headers: auth })).json()) as any;
  t.equal(trusted.checks.objectStorage, 'down');
  t.type(trusted.reasons.objectStorage, 'string');
  t.ok(trusted.reasons.objectStorage.length > 0, `the token holder learns why: ${trusted.reasons.objectStorage}`);
  t.equal(trusted.reasons.database, undefined, 'nothing for what is up');
});

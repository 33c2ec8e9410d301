// The OpenAPI document as an integrator uses it: the served /docs/json passes swagger-parser (and redocly
// when installed), names every operation, declares the security each one needs, describes its success
// and error answers, and each request example in it is accepted by the running service.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import { createHarness, postJob } from './helpers/harness.js';
import { errorCodes } from '../src/errors.js';
import { operations } from '../src/api/openapi.js';
import { jobExamples, scheduleExamples } from '../src/api/openapiExamples.js';

const token = 'contract-test-token-0123456789';
const auth = { authorization: `Bearer ${token}` };
const PROBES = new Set(['/healthz', '/readyz']);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const redocly = 'node_modules/.bin/redocly';

function eachOperation(doc: any): Array<{ name: string; path: string; op: any }> {
  return Object.entries(doc.paths as Record<string, any>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ name: `${m.toUpperCase()} ${path}`, path, op: item[m] })),
  );
}

t.test('the served document validates, names every operation and declares its security and answers', async (t) => {
  const h = await createHarness({ apiTokens: [token] });
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const doc = (await (await fetch(`${svc.url}/docs/json`, { headers: auth })).json()) as any;

  // validate() dereferences in place: give it a copy.
  await t.resolves(SwaggerParser.validate(structuredClone(doc)), 'swagger-parser validates the document');
  t.match(doc.openapi, /^3\.1\./);
  t.ok(doc.servers?.length > 0 && doc.servers.every((s: any) => /^https?:\/\//.test(s.url)), 'servers are declared');
  t.same(Object.keys(doc.components.securitySchemes).sort(), ['basic', 'bearer', 'watchSecret']);
  const bySecret = new Set(Object.values(operations).filter((o) => o.watchSecret).map((o) => o.id));

  const ops = eachOperation(doc);
  t.ok(ops.length >= Object.keys(operations).length, `${ops.length} operations`);
  for (const { name, path, op } of ops) {
    t.type(op.operationId, 'string', `${name} has an operationId (add it to operations in src/api/openapi.ts)`);
    const codes = Object.keys(op.responses).map(Number);
    t.ok(codes.some((c) => c >= 200 && c < 300), `${name} declares a 2xx answer`);
    t.ok(codes.some((c) => c >= 400 && c < 500), `${name} declares a 4xx answer`);
    if (PROBES.has(path)) t.same(op.security, [], `${name} needs no token`);
    else if (bySecret.has(op.operationId)) t.same(op.security, [{ watchSecret: [] }], `${name} takes a watch's secret`);
    else t.same(op.security, [{ bearer: [] }, { basic: [] }], `${name} needs a token, bearer or basic`);
    for (const code of codes.filter((c) => c >= 400 && !(PROBES.has(path) && c === 503))) {
      const listed = op.responses[code].content['application/json'].schema.properties.error.properties.code.enum as string[];
      const expected = Object.keys(errorCodes).filter((c) => errorCodes[c as keyof typeof errorCodes].status === code);
      t.same(listed, expected, `${name} ${code}: the catalogue's codes of that status`);
    }
  }
  const ids = ops.map((o) => o.op.operationId);
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique');
  for (const { id } of Object.values(operations)) t.ok(ids.includes(id), `${id} names a route that exists`);
  t.equal(doc.paths['/jobs/{id}'].get.operationId, 'getJob');
  t.ok(doc.paths['/jobs/{id}'].get.responses['404'].content['application/json'].schema.properties.error.properties.code.enum.includes('JOB_NOT_FOUND'));

  // What the service says about security is what it does: a protected operation refuses no token.
  t.equal((await fetch(`${svc.url}/jobs`)).status, 401, 'GET /jobs without a token');
  t.equal((await fetch(`${svc.url}/healthz`)).status, 200, '/healthz without a token');

  if (!existsSync(redocly)) {
    t.comment('redocly is not installed (npm install --save-dev @redocly/cli): its lint is skipped');
    return;
  }
  const file = join(mkdtempSync(join(tmpdir(), 'openapi-')), 'openapi.json');
  writeFileSync(file, JSON.stringify(doc));
  // With no redocly.yaml, redocly lints with its recommended rules.
  const lint = await promisify(execFile)(redocly, ['lint', '--format=json', file]).catch((err) => err);
  const problems = JSON.parse(lint.stdout).problems as Array<{ severity: string; ruleId: string; message: string }>;
  t.same(problems.filter((p) => p.severity === 'error'), [], 'redocly lint (recommended): no errors');
});

t.test('each documented request example is accepted by the running service', async (t) => {
  const h = await createHarness({ apiTokens: [token] });
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const doc = (await (await fetch(`${svc.url}/docs/json`, { headers: auth })).json()) as any;

  const served = doc.paths['/jobs'].post.requestBody.content['application/json'].examples as Record<string, { value: any }>;
  t.same(Object.keys(served).sort(), Object.keys(jobExamples).sort(), 'the document carries every job example');
  for (const [name, example] of Object.entries(served)) {
    const res = await postJob(svc.url!, example.value, auth);
    t.equal(res.status, 202, `${name}: accepted (${JSON.stringify(res.body)})`);
    const { rows } = await h.db.query('SELECT status, source_url, spec FROM ingest.jobs WHERE id = $1', [res.body.id]);
    t.equal(rows[0]?.status, 'queued', `${name}: stored and queued`);
    t.equal(rows[0]?.source_url, example.value.source.url, `${name}: the example's source`);
    t.same(rows[0]?.spec.target.table, example.value.target.table, `${name}: the example's target`);
  }

  const schedules = doc.paths['/schedules'].post.requestBody.content['application/json'].examples as Record<string, { value: any }>;
  t.same(Object.keys(schedules), Object.keys(scheduleExamples));
  for (const [name, example] of Object.entries(schedules)) {
    // Schedule names are global: this test's copy gets its queue's suffix.
    const body = { ...example.value, name: `${example.value.name}-${h.config.queueName}` };
    const res = await fetch(`${svc.url}/schedules`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    t.equal(res.status, 201, `${name}: accepted (${res.status === 201 ? '' : await res.text()})`);
    const { rows } = await h.db.query('SELECT cron, timezone, spec FROM ingest.schedules WHERE name = $1', [body.name]);
    t.match(rows[0], { cron: example.value.cron, timezone: example.value.timezone }, `${name}: stored`);
    t.equal(rows[0]?.spec.source.url, example.value.job.source.url);
    t.equal((await fetch(`${svc.url}/schedules/${body.name}`, { method: 'DELETE', headers: auth })).status, 204);
  }
});

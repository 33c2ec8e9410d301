// The OpenAPI document describes every route the API serves, with bodies, responses and examples.
import t from 'tap';
import { createHarness } from './helpers/harness.js';

t.test('/docs/json describes every route with a summary and its responses', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const doc = (await (await fetch(`${svc.url}/docs/json`)).json()) as any;
  t.match(doc.openapi, /^3\./);
  const expected: Array<[string, string]> = [
    ['post', '/jobs'], ['get', '/jobs'], ['get', '/jobs/{id}'], ['post', '/jobs/{id}/cancel'], ['get', '/jobs/{id}/rejects'], ['get', '/jobs/{id}/files'],
    ['get', '/tables/{name}'], ['post', '/tables/{name}/rebalance'], ['post', '/tables/{name}/analyze'], ['post', '/schedules'], ['get', '/schedules'], ['get', '/schedules/{name}'], ['delete', '/schedules/{name}'],
    ['get', '/healthz'], ['get', '/readyz'],
  ];
  for (const [method, path] of expected) {
    const op = doc.paths?.[path]?.[method];
    t.ok(op, `${method.toUpperCase()} ${path} is documented`);
    t.ok(op?.summary, `${method.toUpperCase()} ${path} has a summary`);
    t.ok(op && Object.keys(op.responses ?? {}).length > 0, `${method.toUpperCase()} ${path} describes its responses`);
  }
  const submit = doc.paths['/jobs'].post;
  const body = submit.requestBody.content['application/json'].schema;
  t.ok(body.properties.source && body.properties.target && body.properties.format, 'the job spec is described');
  t.match(JSON.stringify(body), /price-paid/, 'with examples from the price-paid case');
  t.ok(submit.responses['400'] && submit.responses['403'], 'errors are described');
});

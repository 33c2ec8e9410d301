import t from 'tap';
import { createHarness, postJob } from './helpers/harness.js';

t.test('bad specs get a 400 naming the field and the reason, and store no job', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const before = await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs');
  const good = { source: { url: 's3://landing/a.csv' }, target: { table: 'public.uk_price' } };
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['missing source', { target: good.target }, '/source', /required/],
    ['not a source url', { ...good, source: { url: 'ftp://example.com/a.csv' } }, '/source/url', /s3:\/\/bucket\/key/],
    ['a bucket with no slash', { ...good, source: { url: 's3://landing' } }, '/source/url', /s3:\/\/bucket\/key/],
    ['a pattern without a prefix', { ...good, source: { url: 's3://landing/a.csv', pattern: '*.csv' } }, '/source/pattern', /prefix/],
    ['unknown top-level field', { ...good, maxError: 1 }, '/maxError', /not a known field/],
    ['unknown format field', { ...good, format: { delimitor: ';' } }, '/format/delimitor', /not a known field/],
    ['two-character delimiter', { ...good, format: { delimiter: ';;' } }, '/format/delimiter', /more than 1/],
    ['header as a string', { ...good, format: { header: 'yes' } }, '/format/header', /boolean/],
    ['table name with SQL in it', { ...good, target: { table: 'uk_price; DROP TABLE x' } }, '/target/table', /table name/],
    ['three-part table name', { ...good, target: { table: 'a.b.c' } }, '/target/table', /table name/],
    ['empty column list', { ...good, target: { table: 'uk_price', columns: [] } }, '/target/columns', /fewer than 1/],
    ['duplicate columns', { ...good, target: { table: 'uk_price', columns: ['a', 'a'] } }, '/target/columns', /duplicate/],
    ['negative maxErrors', { ...good, maxErrors: -1 }, '/maxErrors', />= 0/],
    ['no connections per worker', { ...good, target: { table: 'uk_price', connectionsPerWorker: 0 } }, '/target/connectionsPerWorker', />= 1/],
    ['a fraction of a connection', { ...good, target: { table: 'uk_price', connectionsPerWorker: 1.5 } }, '/target/connectionsPerWorker', /integer/],
    ['an array body', [good], '', /object/],
  ];
  for (const [name, spec, field, reason] of cases) {
    const res = await postJob(svc.url!, spec);
    t.equal(res.status, 400, `${name}: status`);
    t.equal(res.body.error?.code, 'INVALID_SPEC', `${name}: code`);
    t.equal(res.body.error?.details?.field, field, `${name}: field`);
    t.match(res.body.error?.details?.reason, reason, `${name}: reason`);
  }

  const malformed = await fetch(`${svc.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"source":' });
  t.equal(malformed.status, 400);
  t.equal(((await malformed.json()) as any).error.code, 'INVALID_SPEC');

  const after = await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs');
  t.equal(after.rows[0].n, before.rows[0].n, 'no job was stored');
});

t.test('job routes answer unknown ids and bad parameters with the error shape', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const missing = await fetch(`${svc.url}/jobs/00000000-0000-4000-8000-000000000000`);
  t.equal(missing.status, 404);
  t.equal(((await missing.json()) as any).error.code, 'JOB_NOT_FOUND');
  const badId = await fetch(`${svc.url}/jobs/not-a-uuid`);
  t.equal(badId.status, 400);
  t.equal(((await badId.json()) as any).error.code, 'INVALID_REQUEST');
  const badStatus = await fetch(`${svc.url}/jobs?status=done`);
  t.equal(badStatus.status, 400);
  const nowhere = await fetch(`${svc.url}/nowhere`);
  t.equal(nowhere.status, 404);
  t.equal(((await nowhere.json()) as any).error.code, 'NOT_FOUND');
});

t.test('GET /jobs lists newest first, filters by status and pages with a cursor', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await postJob(svc.url!, { source: { url: `s3://landing/list-${h.schema}-${i}.csv` }, target: { table: `${h.schema}.none` } });
    ids.push(res.body.id);
  }
  await fetch(`${svc.url}/jobs/${ids[1]}/cancel`, { method: 'POST' });
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10; page++) {
    const res = await fetch(`${svc.url}/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    const body = (await res.json()) as any;
    t.ok(body.jobs.length <= 2);
    seen.push(...body.jobs.map((j: any) => j.id));
    cursor = body.nextCursor;
    if (!cursor || seen.length >= 5 + 20) break;
  }
  const mine = seen.filter((id) => ids.includes(id));
  t.same(mine.slice(0, 5), [...ids].reverse(), 'newest first across pages');
  const cancelled = (await (await fetch(`${svc.url}/jobs?status=cancelled&limit=500`)).json()) as any;
  t.ok(cancelled.jobs.some((j: any) => j.id === ids[1]));
  t.ok(cancelled.jobs.every((j: any) => j.status === 'cancelled'));
});

t.test('input PostgreSQL would choke on gets a 400 naming the field, not a 500', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const before = await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs');
  const good = { source: { url: 's3://landing/a.csv' }, target: { table: `${h.schema}.t` } };
  const withType = (type: string) => ({ ...good, target: { ...good.target, create: { columns: [{ name: 'a', type: 'int' }, { name: 'b', type }] } } });
  const cases: Array<[string, unknown, string, string, RegExp]> = [
    ['a collation in a type', withType('text COLLATE C'), 'TARGET_DEFINITION_INVALID', '/target/create/columns/1/type', /type name/],
    ['a constraint in a type', withType('integer not null'), 'TARGET_DEFINITION_INVALID', '/target/create/columns/1/type', /type name/],
    ['char(0)', withType('char(0)'), 'TARGET_DEFINITION_INVALID', '/target/create/columns/1/type', /type name/],
    ['numeric(0,5)', withType('numeric(0,5)'), 'TARGET_DEFINITION_INVALID', '/target/create/columns/1/type', /type name/],
    ['setof text', withType('setof text'), 'TARGET_DEFINITION_INVALID', '/target/create/columns/1/type', /type name/],
    ['a pseudo-type', withType('void'), 'TARGET_DEFINITION_INVALID', '/target/create/columns/1/type', /known PostgreSQL type/],
    ['an unknown type', withType('nosuchtype'), 'TARGET_DEFINITION_INVALID', '/target/create/columns/1/type', /known PostgreSQL type/],
    ['a NUL in the table name', { ...good, target: { table: `${h.schema}."t\u0000x"` } }, 'INVALID_SPEC', '/target/table', /NUL/],
    ['a NUL in a column name', { ...good, target: { ...good.target, columns: ['a', 'b\u0000'] } }, 'INVALID_SPEC', '/target/columns/1', /NUL/],
    ['a NUL in the null string', { ...good, format: { null: 'N\u0000' } }, 'INVALID_SPEC', '/format/null', /NUL/],
    ['a lone surrogate in the url', { ...good, source: { url: 's3://landing/a\ud800.csv' } }, 'INVALID_SPEC', '/source/url', /surrogate/],
    ['a lone low surrogate in a pattern', { ...good, source: { url: 's3://landing/dir/', pattern: '\udc00*.csv' } }, 'INVALID_SPEC', '/source/pattern', /surrogate/],
    ['delimiter equal to quote', { ...good, format: { delimiter: '|', quote: '|' } }, 'INVALID_SPEC', '/format/quote', /differ/],
    ['a line break as delimiter', { ...good, format: { delimiter: '\n' } }, 'INVALID_SPEC', '/format/delimiter', /line break/],
    ['the delimiter in the null string', { ...good, format: { null: 'a,b' } }, 'INVALID_SPEC', '/format/null', /delimiter/],
    ['an unknown encoding', { ...good, format: { encoding: 'KLINGON8' } }, 'INVALID_SPEC', '/format/encoding', /encoding PostgreSQL knows/],
    ['chunkBytes over the cap', { ...good, atomicity: 'chunk', chunkBytes: 4294967296 }, 'INVALID_SPEC', '/chunkBytes', /<= 268435456/],
    ['chunk buffers over the memory cap', { ...good, atomicity: 'chunk', streams: 32, chunkBytes: 268435456 }, 'INVALID_SPEC', '/chunkBytes', /2 GiB/],
  ];
  for (const [name, spec, code, field, reason] of cases) {
    const res = await postJob(svc.url!, spec);
    t.equal(res.status, 400, `${name}: status ${JSON.stringify(res.body)}`);
    t.equal(res.body.error?.code, code, `${name}: code`);
    t.equal(res.body.error?.details?.field, field, `${name}: field`);
    t.match(res.body.error?.details?.reason, reason, `${name}: reason`);
  }
  // The encodings PostgreSQL knows still pass, in any spelling it accepts.
  for (const encoding of ['latin1', 'WIN1252', 'SJIS']) {
    const res = await postJob(svc.url!, { ...good, format: { encoding } });
    t.equal(res.status, 202, `${encoding} is accepted: ${JSON.stringify(res.body)}`);
  }
  const after = await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs');
  t.equal(after.rows[0].n, before.rows[0].n + 3, 'only the three good specs were stored');
});

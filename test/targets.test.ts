// Target preparation on plain PostgreSQL: create from the spec, refuse Citus specs clearly, validate
// definitions at the edge. The Citus cases live in citus.test.ts.
import t from 'tap';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';
import { pricePaidCsv, ukPriceColumns } from '../src/gen/pricePaid.js';

const ukPriceCreate = {
  columns: ukPriceColumns.map((name) => ({
    name,
    type: name === 'transaction_unique_identifier' ? 'uuid' : name === 'price' ? 'integer' : name === 'date_of_transfer' ? 'timestamp without time zone' : 'character varying(100)',
  })),
  primaryKey: ['transaction_unique_identifier'],
};

t.test('a missing table is created from target.create and loaded (plain PostgreSQL)', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const url = await h.put('pp.csv', pricePaidCsv(2_000, 41));
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.created`, create: ukPriceCreate } });
  t.equal(res.status, 202, JSON.stringify(res.body));
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same(job.result.target, { table: `"${h.schema}"."created"`, created: true, distributed: 'none' });
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, pg_typeof(min(price))::text AS t FROM ${h.schema}.created`);
  t.same(rows[0], { n: 2_000, t: 'integer' });
  const facts = (await (await fetch(`${svc.url}/tables/${h.schema}.created`)).json()) as any;
  t.equal(facts.type, 'local');
  t.ok(facts.sizeBytes > 0);
});

t.test('without Citus a job asking for a distribution fails clearly and creates nothing', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const citus = await h.db.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
  t.equal(citus.rowCount, 0, 'the test database is plain PostgreSQL');
  const url = await h.put('pp.csv', pricePaidCsv(10, 42));
  const svc = await h.start();
  const res = await postJob(svc.url!, {
    source: { url },
    target: { table: `${h.schema}.dist`, create: ukPriceCreate, distribution: { column: 'transaction_unique_identifier', shardCount: 32 } },
  });
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'CITUS_NOT_AVAILABLE');
  t.match(job.error.message, /no citus extension/);
  const { rows } = await h.db.query(`SELECT to_regclass($1) AS r`, [`${h.schema}.dist`]);
  t.equal(rows[0].r, null, 'no table was created');
});

t.test('target definitions are checked before any byte moves, naming the field', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const base = { source: { url: 's3://landing/x.csv' } };
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['unknown type', { table: 'x', create: { columns: [{ name: 'a', type: 'integr' }] } }, '/target/create/columns/0/type', /not a known PostgreSQL type/],
    ['type with SQL in it', { table: 'x', create: { columns: [{ name: 'a', type: 'int); DROP TABLE y; --' }] } }, '/target/create/columns/0/type', /invalid format/],
    ['distribution column not defined', { table: 'x', create: { columns: [{ name: 'a', type: 'int' }] }, distribution: { column: 'b' } }, '/target/distribution/column', /not in target.create.columns/],
    ['primary key without the distribution column', { table: 'x', create: { columns: [{ name: 'a', type: 'int' }, { name: 'b', type: 'int' }], primaryKey: ['a'] }, distribution: { column: 'b' } }, '/target/create/primaryKey', /must include the distribution column "b"/],
    ['unique constraint without the distribution column', { table: 'x', create: { columns: [{ name: 'a', type: 'int' }, { name: 'b', type: 'int' }], primaryKey: ['a', 'b'], unique: [['a']] }, distribution: { column: 'b' } }, '/target/create/unique/0', /must include the distribution column/],
    ['too many shards', { table: 'x', distribution: { column: 'a', shardCount: 64_001 } }, '/target/distribution/shardCount', /<= 64000/],
    ['zero shards', { table: 'x', distribution: { column: 'a', shardCount: 0 } }, '/target/distribution/shardCount', />= 1/],
    ['shard count with a colocated table', { table: 'x', distribution: { column: 'a', shardCount: 8, colocateWith: 'public.other' } }, '/target/distribution/shardCount', /colocateWith/],
    ['column defined twice', { table: 'x', create: { columns: [{ name: 'a', type: 'int' }, { name: 'a', type: 'text' }] } }, '/target/create/columns', /defined twice/],
  ];
  for (const [name, target, field, reason] of cases) {
    const res = await postJob(svc.url!, { ...base, target });
    t.equal(res.status, 400, `${name}: status ${JSON.stringify(res.body)}`);
    t.equal(res.body.error.details.field, field, `${name}: field`);
    t.match(res.body.error.message + ' ' + (res.body.error.details.reason ?? ''), reason, `${name}: reason`);
  }
});

// Names the service makes up stay distinct within PostgreSQL's 63 bytes, and a replace load never
// drops a table it did not create (issue #30, item 4): the two-table case from the review, where
// PostgreSQL's silent cut turned the replace's staging name into the neighbour table's name.
import t, { type Test } from 'tap';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';
import { generatedName, MAX_IDENTIFIER_BYTES } from '../src/sink/names.js';

// 22 two-byte characters and 18 one-byte ones: 40 characters, 62 bytes. Its neighbour adds one byte.
const long = `${'é'.repeat(22)}${'a'.repeat(18)}`;
const neighbour = `${long}_`;

t.test('a generated name fits in 63 bytes, is cut between characters and differs where the inputs differ', async (t) => {
  t.equal(Buffer.byteLength(long), 62);
  const a = generatedName(long, '__ci_new_0123456789ab');
  const b = generatedName(neighbour, '__ci_new_0123456789ab');
  for (const name of [a, b]) {
    t.ok(Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES, `${name} fits`);
    t.notOk(name.includes('\uFFFD'), 'no character is split');
    t.ok(name.endsWith('__ci_new_0123456789ab'), 'the suffix is kept whole');
  }
  t.not(a, b);
  t.not(a.slice(0, 63), neighbour, 'not the neighbour table');
  t.equal(generatedName('stage_', 'abc'), 'stage_abc', 'a name that fits is kept as written');
});

/** Replaces the 62-byte table's rows with three new ones; the 63-byte neighbour holds one row of its own. */
async function replaceBesideNeighbour(t: Test, h: Harness, distribute: boolean): Promise<void> {
  const target = `${h.schema}."${long}"`;
  const other = `${h.schema}."${neighbour}"`;
  await h.db.query(`CREATE TABLE ${target} (id int PRIMARY KEY, v text)`);
  await h.db.query(`CREATE TABLE ${other} (id int, v text)`);
  if (distribute) {
    await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 4)`, [target]);
    await h.db.query(`SELECT create_distributed_table($1, 'id', colocate_with => $2)`, [other, target]);
  }
  await h.db.query(`INSERT INTO ${target} VALUES (1, 'old'), (2, 'old')`);
  await h.db.query(`INSERT INTO ${other} VALUES (42, 'keep me')`);
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url: await h.put('new.csv', '10,new\n11,new\n12,new\n') }, target: { table: target }, mode: 'replace' });
  t.equal(res.status, 202, JSON.stringify(res.body));
  const job = await waitForJob(svc.url!, res.body.id, undefined, 120_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));

  const neighbourRows = await h.db.query(`SELECT id, v FROM ${other}`).then((r) => r.rows).catch((err) => `gone: ${(err as Error).message}`);
  t.same(neighbourRows, [{ id: 42, v: 'keep me' }], 'the neighbour table keeps its row');
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, sum(id)::int AS ids, min(v) AS v FROM ${target}`);
  t.same(rows[0], { n: 3, ids: 33, v: 'new' }, 'the target holds the new rows only');
  const tables = await h.db.query('SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename', [h.schema]);
  t.same(tables.rows.map((r: any) => r.tablename), [long, neighbour], 'nothing else left in the schema');
  const stages = await h.db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'ingest_stage' AND tablename LIKE $1`, [`%${job.id.replace(/-/g, '').slice(0, 12)}`]);
  t.equal(stages.rows[0].n, 0, 'the staging table is gone from ingest_stage');
  if (distribute) {
    const types = await h.db.query(`SELECT citus_table_type AS type, shard_count::int AS shards FROM citus_tables WHERE table_name = $1::regclass`, [target]);
    t.same(types.rows[0], { type: 'distributed', shards: 4 }, 'the new table is distributed like the old one');
  }
}

t.test('replace into a 62-byte table leaves the 63-byte neighbour table and its row alone', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await replaceBesideNeighbour(t, h, false);
});

const cluster = citusCluster();
t.test('on Citus too: the distributed target is replaced, its distributed neighbour keeps its row', { skip: cluster.skip ?? false }, async (t) => {
  const h = await createHarness({ databaseUrl: cluster.url ?? '' });
  t.teardown(() => h.close());
  await replaceBesideNeighbour(t, h, true);
});

// Rejects on Citus for records a worker refuses. Citus reports those (unique, CHECK, NOT NULL, foreign
// key, exclusion) as internal_error without a line; the batch is searched for them and each is told by
// the SQLSTATE of its single-row INSERT. Skipped, with a visible line, where Citus is not installed.
import t from 'tap';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';

const cluster = citusCluster();
const skip = cluster.skip ?? false;
const citusUrl = cluster.url ?? '';

async function run(h: Harness, url: string, spec: Record<string, unknown>) {
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, ...spec });
  if (res.status !== 202) throw new Error(JSON.stringify(res.body));
  const job = await waitForJob(svc.url!, res.body.id, undefined, 300_000);
  const rejects = (await (await fetch(`${svc.url}/jobs/${res.body.id}/rejects?limit=1000`)).json()) as any;
  return { job, rejects: rejects.rejects as { line: number; sqlstate: string; record: string; message: string }[] };
}

t.test('1,003 records into 32 shards, 3 of them keys already there: exactly those 3 rejected with their lines, the 1,000 others loaded', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const table = `${h.schema}.keyed`;
  await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int)`);
  await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 32)`, [table]);
  await h.db.query(`INSERT INTO ${table} VALUES (-1, 7), (-2, 7), (-3, 7)`);
  const lines = Array.from({ length: 1003 }, (_, i) => `${i + 1},${i + 1}`);
  lines[300] = '-1,5000';
  lines[601] = '-2,5000';
  lines[1002] = '-3,5000';
  const url = await h.put('keys.csv', lines.join('\n') + '\n');
  const { job, rejects } = await run(h, url, { target: { table }, maxErrors: 10 });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.rowsRejected, 3);
  t.same(rejects.map((r) => [r.line, r.sqlstate, r.record]), [[301, '23505', '-1,5000'], [602, '23505', '-2,5000'], [1003, '23505', '-3,5000']]);
  const goodSum = lines.filter((_, i) => ![300, 601, 1002].includes(i)).reduce((s, l) => s + Number(l.split(',')[1]), 0);
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, sum(v)::int AS s FROM ${table} WHERE id > 0`);
  t.same(rows[0], { n: 1000, s: goodSum }, 'the 1,000 good rows, none of the refused values');
  const old = await h.db.query(`SELECT sum(v)::int AS s FROM ${table} WHERE id < 0`);
  t.equal(old.rows[0].s, 21, 'the rows that were there are untouched');
});

// One record of each kind a worker refuses, at known lines, among good ones.
const badKinds = [
  { line: 40, record: '9999,1,1,5,x,1', sqlstate: '23505', kind: 'unique' },
  { line: 95, record: '9999,2,0,5,x,1', sqlstate: '23P01', kind: 'exclusion' },
  { line: 150, record: '150,150,150,-5,x,1', sqlstate: '23514', kind: 'check' },
  { line: 210, record: '210,210,210,5,,1', sqlstate: '23502', kind: 'not null' },
  { line: 260, record: '260,260,260,5,x,77', sqlstate: '23503', kind: 'foreign key to a reference table' },
];

function constraintFile(records: number): { body: string; goodSum: number } {
  const lines = Array.from({ length: records }, (_, i) => `${i + 1},${i + 1},${i + 1},${i + 1},name ${i + 1},${1 + (i % 2)}`);
  for (const b of badKinds) lines[b.line - 1] = b.record;
  const bad = new Set(badKinds.map((b) => b.line - 1));
  const goodSum = lines.reduce((s, l, i) => (bad.has(i) ? s : s + Number(l.split(',')[3])), 0);
  return { body: lines.join('\n') + '\n', goodSum };
}

async function constraintTables(h: Harness, kind: 'distributed' | 'reference'): Promise<string> {
  const codes = `${h.schema}.codes`;
  const table = `${h.schema}.checked`;
  await h.db.query(`CREATE TABLE ${codes} (code int PRIMARY KEY)`);
  await h.db.query(`SELECT create_reference_table($1)`, [codes]);
  await h.db.query(`INSERT INTO ${codes} VALUES (1), (2)`);
  await h.db.query(
    `CREATE TABLE ${table} (id int NOT NULL, u int, e int, v int CHECK (v >= 0), n text NOT NULL, r int REFERENCES ${codes} (code),
       UNIQUE (id, u), EXCLUDE USING btree (id WITH =, e WITH =))`,
  );
  if (kind === 'distributed') await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 8)`, [table]);
  else await h.db.query(`SELECT create_reference_table($1)`, [table]);
  await h.db.query(`INSERT INTO ${table} VALUES (9999, 1, 0, 3, 'there before', 1)`);
  return table;
}

for (const kind of ['distributed', 'reference'] as const) {
  t.test(`on a ${kind} table, a record refused for unique, exclusion, CHECK, NOT NULL or a foreign key is rejected with its line and SQLSTATE`, { skip }, async (t) => {
    const h = await createHarness({ databaseUrl: citusUrl });
    t.teardown(() => h.close());
    const table = await constraintTables(h, kind);
    const { body, goodSum } = constraintFile(300);
    const url = await h.put('kinds.csv', body);
    const { job, rejects } = await run(h, url, { target: { table }, maxErrors: 10 });
    t.equal(job.status, 'succeeded', JSON.stringify(job.error));
    t.same(
      rejects.map((r) => ({ line: r.line, sqlstate: r.sqlstate, record: r.record })),
      badKinds.map((b) => ({ line: b.line, sqlstate: b.sqlstate, record: b.record })),
      badKinds.map((b) => b.kind).join(', '),
    );
    const { rows } = await h.db.query(`SELECT count(*)::int AS n, sum(v)::int AS s FROM ${table} WHERE n <> 'there before'`);
    t.same(rows[0], { n: 300 - badKinds.length, s: goodSum });
  });
}

t.test('an error a worker raises that is not the record\'s fault fails the job and rejects nothing', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const table = `${h.schema}.guarded`;
  // A CHECK whose function raises insufficient_privilege for one value: Citus's COPY reports it as
  // internal_error like a refused row, but alone, by INSERT, it shows its own SQLSTATE (42501).
  await h.db.query(
    `CREATE FUNCTION ${h.schema}.allowed(v int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS
       $$ BEGIN IF v = 13 THEN RAISE EXCEPTION 'not allowed' USING ERRCODE = '42501'; END IF; RETURN true; END $$`,
  );
  await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int CHECK (${h.schema}.allowed(v)))`);
  await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 4)`, [table]);
  const url = await h.put('guarded.csv', Array.from({ length: 200 }, (_, i) => `${i + 1},${i === 120 ? 13 : i}`).join('\n') + '\n');
  const { job, rejects } = await run(h, url, { target: { table }, maxErrors: 100 });
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'DATABASE_ERROR', JSON.stringify(job.error));
  t.equal(job.error.details.sqlstate, '42501', 'the SQLSTATE of the record sent alone');
  t.equal(rejects.length, 0, 'nothing rejected');
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(rows[0].n, 0, 'the file rolled back');
});

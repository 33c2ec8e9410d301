// Mode "merge": add / change / delete records applied by key, the last record per key winning, each file
// in its own transaction with its ledger row, files in order, and on Citus every statement run shard by
// shard on the workers.
import t from 'tap';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';
import { createMergeStage, dropMergeStage } from '../src/load/mergeStage.js';
import { normalizeSpec } from '../src/jobs/spec.js';

// Six tests with a service each, one on Citus: past the suite's 300 s per file on a busy 2-core machine.
t.setTimeout(1_200_000);

const services = new WeakMap<Harness, Promise<string>>();
/** The harness's one service (started on first use). */
function serviceOf(h: Harness): Promise<string> {
  if (!services.has(h)) services.set(h, h.start().then((svc) => svc.url!));
  return services.get(h)!;
}

/** POST /jobs, again after a 503 OVERLOADED: the shared machine can stall the event loop for a second. */
async function submit(h: Harness, spec: Record<string, unknown>) {
  const url = await serviceOf(h);
  for (let i = 0; ; i++) {
    const res = await postJob(url, spec);
    if (res.status === 503 && i < 20) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    return res;
  }
}

async function run(h: Harness, spec: Record<string, unknown>) {
  const res = await submit(h, spec);
  if (res.status !== 202) throw new Error(JSON.stringify(res.body));
  return waitForJob(await serviceOf(h), res.body.id, undefined, 300_000);
}

const op = { column: 'status', delete: ['D'], upsert: ['A', 'C'] };

async function state(h: Harness, table: string): Promise<Array<{ id: number; price: number; status: string }>> {
  return (await h.db.query(`SELECT id, price, status FROM ${h.schema}.${table} ORDER BY id`)).rows;
}

t.test('a change file adds, changes and deletes by key; the last record per key wins; rejects keep their line', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.p (id int PRIMARY KEY, price int, status text)`);
  await h.db.query(`INSERT INTO ${h.schema}.p SELECT g, g * 10, 'A' FROM generate_series(1, 5) g`);
  const url = await h.put(
    'pp-2025-01.csv',
    [
      '6,60,A', // add
      '2,222,C', // change
      '3,30,D', // delete
      '7,70,A', // add, then deleted below: leaves nothing
      '99,0,D', // delete of a key that is not there
      '4,44,X', // unlisted operation: a reject (line 6)
      '7,70,D',
      '5,55,C', // changed twice: the last wins
      '5,555,C',
      '8,80,', // no operation: a reject (line 10)
    ].join('\n') + '\n',
  );
  const job = await run(h, { source: { url }, target: { table: `${h.schema}.p` }, mode: 'merge', key: ['id'], operation: op, maxErrors: 5 });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same(job.result.merge, { inserted: 1, updated: 2, deleted: 1, deleteMissing: 2, rejected: 2 }, 'the 7 of A-then-D is a delete of a missing key');
  t.same(job.runs[0].files[0].merge, job.result.merge, 'the file carries its counts');
  t.same(await state(h, 'p'), [
    { id: 1, price: 10, status: 'A' },
    { id: 2, price: 222, status: 'C' },
    { id: 4, price: 40, status: 'A' },
    { id: 5, price: 555, status: 'C' },
    { id: 6, price: 60, status: 'A' },
  ]);
  const rejects = await h.db.query('SELECT line, column_name AS "column", sqlstate FROM ingest.rejects WHERE job_id = $1 ORDER BY line', [job.id]);
  t.same(rejects.rows.map((r) => [r.line, r.column, r.sqlstate]), [[6, 'status', '23514'], [10, 'status', '23502']]);
  const ledger = await h.db.query('SELECT rows_loaded FROM ingest.file_ledger WHERE job_id = $1', [job.id]);
  t.same(ledger.rows, [{ rows_loaded: 8 }], 'the ledger row commits with the merge');
  const stages = await h.db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'ingest_stage' AND tablename = $1`, [`merge_${job.id.replace(/-/g, '')}`]);
  t.equal(stages.rows[0].n, 0, 'the stage is dropped');

  const again = await run(h, { source: { url }, target: { table: `${h.schema}.p` }, mode: 'merge', key: ['id'], operation: op, maxErrors: 5 });
  t.equal(again.result.filesSkipped, 1, 'a merged file is in the ledger: not merged twice');

  const strict = await run(h, { source: { url: await h.put('strict/pp-2025-01.csv', '1,1,A\n2,2,Q\n') }, target: { table: `${h.schema}.p` }, mode: 'merge', key: ['id'], operation: op });
  t.equal(strict.status, 'failed');
  t.equal(strict.error.code, 'DATA_REJECTED');
  t.equal(strict.error.details.line, 2);
  t.equal((await state(h, 'p'))[0]!.price, 10, 'nothing of a failed file is merged');
});

t.test('the operation may be a file column only; the table does not keep it', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.q (id int PRIMARY KEY, price int)`);
  await h.db.query(`INSERT INTO ${h.schema}.q VALUES (1, 10), (2, 20)`);
  const url = await h.put('c.csv', 'D,1,0\nC,2,21\nA,3,30\n');
  const job = await run(h, {
    source: { url }, target: { table: `${h.schema}.q`, columns: ['op', 'id', 'price'] }, mode: 'merge', key: ['id'],
    operation: { column: 'op', delete: ['D'], upsert: ['A', 'C'] },
  });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same(job.result.merge, { inserted: 1, updated: 1, deleted: 1, deleteMissing: 0, rejected: 0 });
  t.same((await h.db.query(`SELECT id, price FROM ${h.schema}.q ORDER BY id`)).rows, [{ id: 2, price: 21 }, { id: 3, price: 30 }]);
});

t.test('files merge in name order one at a time; an older file than one merged is refused unless reload', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.m (id int PRIMARY KEY, price int, status text)`);
  // Put in reverse: listing order and upload order must not matter, the names decide.
  await h.put('monthly/pp-2025-03.csv', '1,3,C\n3,30,A\n');
  await h.put('monthly/pp-2025-02.csv', '1,2,C\n2,20,D\n');
  await h.put('monthly/pp-2025-01.csv', '1,1,A\n2,2,A\n');
  const spec = { source: { url: 's3://landing/monthly/' }, target: { table: `${h.schema}.m` }, mode: 'merge', key: ['id'], operation: op, concurrency: 4 };
  const job = await run(h, spec);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same(await state(h, 'm'), [{ id: 1, price: 3, status: 'C' }, { id: 3, price: 30, status: 'A' }]);
  t.same(job.result.merge, { inserted: 3, updated: 2, deleted: 1, deleteMissing: 0, rejected: 0 });
  const files = job.runs[0].files.map((f: any) => [f.key, f.merge.inserted, f.merge.updated, f.merge.deleted]);
  t.same(files, [['monthly/pp-2025-01.csv', 2, 0, 0], ['monthly/pp-2025-02.csv', 0, 1, 1], ['monthly/pp-2025-03.csv', 1, 1, 0]]);
  const log = await h.db.query('SELECT key FROM ingest.merge_log WHERE job_id = $1 ORDER BY merged_at', [job.id]);
  t.same(log.rows.map((r) => r.key), ['monthly/pp-2025-01.csv', 'monthly/pp-2025-02.csv', 'monthly/pp-2025-03.csv'], 'merged one after another in name order');

  await h.put('monthly/pp-2024-12.csv', '1,999,C\n');
  const late = await run(h, spec);
  t.equal(late.status, 'failed');
  t.equal(late.error.code, 'MERGE_OUT_OF_ORDER');
  t.match(late.error.message, /pp-2024-12\.csv comes before .*pp-2025-03\.csv/);
  t.equal((await state(h, 'm'))[0]!.price, 3, 'nothing merged');

  await h.put('monthly/pp-2025-04.csv', '3,31,C\n');
  const reload = await run(h, { ...spec, source: { url: 's3://landing/monthly/pp-2024-12.csv' }, reload: true });
  t.equal(reload.status, 'succeeded', JSON.stringify(reload.error));
  t.equal((await state(h, 'm'))[0]!.price, 999, 'reload merges it anyway');
  const next = await run(h, spec);
  t.equal(next.status, 'succeeded', JSON.stringify(next.error));
  t.equal(next.result.filesLoaded, 1, 'only the new month merges');
  t.same(await state(h, 'm'), [{ id: 1, price: 999, status: 'C' }, { id: 3, price: 31, status: 'C' }]);
});

t.test('two merges into one target at once (two schedule ticks) never overlap: every file merges once, in order', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.s (id int PRIMARY KEY, price int, status text)`);
  for (let m = 1; m <= 4; m++) {
    const rows = Array.from({ length: 2000 }, (_, i) => `${i},${m * 100000 + i},${m === 1 ? 'A' : 'C'}`);
    await h.put(`ticks/pp-2025-0${m}.csv`, `${rows.join('\n')}\n`);
  }
  const spec = { source: { url: 's3://landing/ticks/' }, target: { table: `${h.schema}.s` }, mode: 'merge', key: ['id'], operation: op };
  const [a, b] = await Promise.all([submit(h, spec), submit(h, spec)]);
  const url = await serviceOf(h);
  const jobs = await Promise.all([a, b].map((r) => waitForJob(url, r.body.id, undefined, 300_000)));
  t.same(jobs.map((j) => j.status), ['succeeded', 'succeeded'], JSON.stringify(jobs.map((j) => j.error)));
  t.equal(jobs[0].result.filesLoaded + jobs[1].result.filesLoaded, 4, 'each file merged by exactly one of them');
  t.equal(jobs[0].result.filesSkipped + jobs[1].result.filesSkipped, 4, 'and skipped by the other');
  const log = await h.db.query('SELECT key FROM ingest.merge_log WHERE target = $1 ORDER BY merged_at', [`"${h.schema}"."s"`]);
  t.same(log.rows.map((r) => r.key), [1, 2, 3, 4].map((m) => `ticks/pp-2025-0${m}.csv`), 'in name order');
  const state = await h.db.query(`SELECT count(*)::int AS n, min(price)::int AS lo, max(price)::int AS hi FROM ${h.schema}.s`);
  t.same(state.rows[0], { n: 2000, lo: 400000, hi: 401999 }, 'the last month is what stays');
});

t.test('merge specs are checked before anything runs', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const base = { source: { url: 's3://landing/x.csv' }, target: { table: 'public.x' } };
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ mode: 'merge', operation: op }, '/key'],
    [{ mode: 'merge', key: ['id'] }, '/operation'],
    [{ mode: 'merge', key: ['id'], operation: { column: 'status', delete: ['D'], upsert: ['D'] } }, '/operation/upsert'],
    [{ mode: 'merge', key: ['id'], operation: op, atomicity: 'job' }, '/atomicity'],
    [{ mode: 'append', operation: op }, '/operation'],
    [{ mode: 'merge', key: ['id'], operation: op, order: 'size' }, '/order'],
    [{ mode: 'merge', key: ['id'], operation: op, target: { table: 'public.x', columns: ['id', 'price'] } }, '/operation/column'],
    [{ mode: 'merge', key: ['id'], operation: op, format: { header: true }, target: { table: 'public.x', columns: 'header' } }, '/target/columns'],
  ];
  for (const [extra, field] of cases) {
    const res = await submit(h, { ...base, ...extra });
    t.equal(res.status, 400, JSON.stringify(extra));
    t.equal(res.body.error.details.field, field, JSON.stringify(res.body.error));
  }
});

const cluster = citusCluster();

t.test('on Citus the stage is colocated and every merge statement runs on the workers', { skip: cluster.skip ?? false }, async (t) => {
  const h = await createHarness({ databaseUrl: cluster.url! });
  t.teardown(() => h.close());
  const table = `${h.schema}.p`;
  await h.db.query(`CREATE TABLE ${table} (id uuid PRIMARY KEY, price int, status varchar(10))`);
  await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 8)`, [table]);
  const jobId = '00000000-0000-4000-8000-0000000000' + Math.floor(Math.random() * 90 + 10);
  const spec = normalizeSpec({ source: { url: 's3://landing/x.csv' }, target: { table }, mode: 'merge', key: ['id'], operation: op });
  const stage = await createMergeStage(h.db, spec, jobId);
  t.teardown(() => dropMergeStage(h.db, jobId));
  const colo = await h.db.query(
    `SELECT count(DISTINCT colocationid)::int AS n FROM pg_dist_partition WHERE logicalrelid IN ($1::regclass, $2::regclass)`,
    [table, stage.sql],
  );
  t.equal(colo.rows[0].n, 1, 'stage and target share a colocation group');
  for (const [name, sql] of Object.entries(stage.statements)) {
    if (name === 'clear') continue;
    const plan = (await h.db.query(`EXPLAIN (COSTS OFF) ${sql}`)).rows.map((r) => r['QUERY PLAN'] as string).join('\n');
    // The count adds up one partial count per shard on the coordinator; everything else is one distributed step.
    t.match(name === 'count' ? plan : plan.split('\n')[0], /Custom Scan \(Citus Adaptive\)/, `${name}: one distributed plan`);
    t.match(plan, /Task Count: 8/, `${name}: a task per shard`);
    t.notMatch(plan, /pull to coordinator|repartition|Citus INSERT \.\.\. SELECT|Citus MERGE|intermediate result/i, `${name}: nothing through the coordinator`);
  }

  const base = Array.from({ length: 50 }, (_, i) => `"{00000000-0000-4000-8000-${String(i).padStart(12, '0')}}",${i},A`).join('\n') + '\n';
  const loaded = await run(h, { source: { url: await h.put('base.csv', base) }, target: { table } });
  t.equal(loaded.status, 'succeeded', JSON.stringify(loaded.error));
  const id = (i: number) => `"{00000000-0000-4000-8000-${String(i).padStart(12, '0')}}"`;
  const change = [`${id(1)},100,C`, `${id(2)},0,D`, `${id(60)},60,A`, `${id(61)},61,A`, `${id(61)},61,D`, `${id(70)},0,D`, `${id(3)},3,Z`].join('\n') + '\n';
  const job = await run(h, { source: { url: await h.put('pp-2025-01.csv', change) }, target: { table }, mode: 'merge', key: ['id'], operation: op, maxErrors: 1 });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same(job.result.merge, { inserted: 1, updated: 1, deleted: 1, deleteMissing: 2, rejected: 1 });
  const sum = await h.db.query(`SELECT count(*)::int AS n, sum(price)::int AS s FROM ${table}`);
  t.same(sum.rows[0], { n: 50, s: 1225 - 1 + 100 - 2 + 60 });
  const rejects = await h.db.query('SELECT line, column_name AS "column" FROM ingest.rejects WHERE job_id = $1', [job.id]);
  t.same(rejects.rows, [{ line: 7, column: 'status' }], 'the unlisted value is rejected on the coordinator, with its line');
});

// A file where every 10th record is bad (a key already in the table, a key repeated from earlier in the
// file, a CHECK violation, a missing foreign key, now and then a value COPY cannot read) loads its good
// records and rejects exactly the bad ones, with their lines and SQLSTATEs, the same into a 32-shard
// Citus table as into plain PostgreSQL; and the failed batch goes through the stage (one COPY into a
// temporary table and set-based checks), not through a COPY into the target per bad record.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t, { type Test } from 'tap';
import { defaultFormat } from '../src/jobs/specSchema.js';
import { processRegistry } from '../src/metrics.js';
import { batchStage } from '../src/sink/batchStage.js';
import { copyStatement } from '../src/sink/copySql.js';
import { resolveTarget } from '../src/sink/resolveTarget.js';
import { csvBatchLoader } from './helpers/csvBatchLoader.js';
import { allRejects, createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';

const cluster = citusCluster();

const RECORDS = 6000;
const CSV = defaultFormat;
const EXISTING = 200;

interface Expected {
  body: string;
  rejects: [number, string][];
  rows: number;
  sum: number;
}

/** The file: record i (line i) is `id,v,r`; every 10th is bad, by turns in four ways. */
function dirtyFile(): Expected {
  const lines: string[] = [];
  const rejects: [number, string][] = [];
  let sum = 0;
  for (let line = 1; line <= RECORDS; line++) {
    let text = `${line},${line}.5,${1 + (line % 3)}`;
    if (line % 10 === 0) {
      const turn = (line / 10) % 4;
      if (turn === 0) [text, rejects[rejects.length]] = [`-${1 + (line % EXISTING)},7,1`, [line, '23505']]; // in the table already
      else if (turn === 1) [text, rejects[rejects.length]] = [`${line - 3},8,1`, [line, '23505']]; // a key 3 lines up
      else if (turn === 2) [text, rejects[rejects.length]] = [`${line},-${line},1`, [line, '23514']]; // v >= 0
      else if (line % 100 === 30) [text, rejects[rejects.length]] = [`${line},many,1`, [line, '22P02']]; // not a number
      else [text, rejects[rejects.length]] = [`${line},${line},9`, [line, '23503']]; // no code 9
    } else {
      sum += line + 0.5;
    }
    lines.push(text);
  }
  return { body: lines.join('\n') + '\n', rejects, rows: RECORDS - rejects.length, sum };
}

async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

async function loadDirty(t: Test, h: Harness, citus: boolean): Promise<void> {
  const codes = `${h.schema}.codes`;
  const table = `${h.schema}.dirty`;
  await h.db.query(`CREATE TABLE ${codes} (code int PRIMARY KEY)`);
  if (citus) await h.db.query(`SELECT create_reference_table($1)`, [codes]);
  await h.db.query(`INSERT INTO ${codes} VALUES (1), (2), (3)`);
  await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v numeric CHECK (v >= 0), r int REFERENCES ${codes} (code))`);
  if (citus) await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 32)`, [table]);
  await h.db.query(`INSERT INTO ${table} SELECT -g, 1, 1 FROM generate_series(1, ${EXISTING}) g`);
  const file = dirtyFile();
  const url = await h.put('dirty.csv', file.body);
  const svc = await h.start();
  const series = {
    target: 'citus_ingest_isolation_copies_total{into="target"}',
    stage: 'citus_ingest_isolation_copies_total{into="stage"}',
    staged: 'citus_ingest_staged_batches_total{outcome="loaded"}',
    fellBack: 'citus_ingest_staged_batches_total{outcome="fell_back"}',
  };
  const before = Object.fromEntries(await Promise.all(Object.entries(series).map(async ([k, s]) => [k, await metric(svc.url!, s)])));
  const res = await postJob(svc.url!, { source: { url }, target: { table }, maxErrors: 1000 });
  t.equal(res.status, 202, JSON.stringify(res.body));
  const job = await waitForJob(svc.url!, res.body.id, undefined, 300_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.rowsRejected, file.rejects.length);

  const got: { line: number; sqlstate: string; message: string }[] = await allRejects(svc.url!, res.body.id);
  t.same(got.map((r) => [r.line, r.sqlstate]), file.rejects, 'every bad record, in file order, with its SQLSTATE');
  t.match(got.find((r) => r.sqlstate === '23505')?.message, /duplicate key value violates unique constraint "dirty_pkey"/);
  t.match(got.find((r) => r.sqlstate === '23514')?.message, /violates check constraint "dirty_v_check"/);
  t.match(got.find((r) => r.sqlstate === '23503')?.message, /violates foreign key constraint "dirty_r_fkey"/);

  const { rows } = await h.db.query(`SELECT count(*)::int AS n, sum(v)::text AS s FROM ${table} WHERE id > 0`);
  t.same(rows[0], { n: file.rows, s: file.sum.toFixed(1) }, 'the good rows, none of the refused values');
  const repeated = await h.db.query(`SELECT v::text FROM ${table} WHERE id = 7`);
  t.same(repeated.rows, [{ v: '7.5' }], 'a repeated key keeps the first record of the file');
  const old = await h.db.query(`SELECT count(*)::int AS n, sum(v)::int AS s FROM ${table} WHERE id < 0`);
  t.same(old.rows[0], { n: EXISTING, s: EXISTING }, 'the rows that were there are untouched');

  const after = Object.fromEntries(await Promise.all(Object.entries(series).map(async ([k, s]) => [k, await metric(svc.url!, s)])));
  // Work that does not grow with the bad records: the one batch is staged once, with no COPY into the
  // target to isolate them, and the stage's own COPYs are 2 per value COPY cannot read, and 2 more.
  t.equal(after.staged - before.staged, 1, 'the failed batch was loaded through the stage');
  t.equal(after.fellBack - before.fellBack, 0, 'without falling back');
  t.equal(after.target - before.target, 0, 'no COPY into the target to isolate the bad records');
  const unreadable = file.rejects.filter(([, s]) => s === '22P02').length;
  t.ok(after.stage - before.stage <= 2 + 2 * unreadable, `COPYs into the stage: ${after.stage - before.stage} for ${unreadable} unreadable records`);
}

t.test('every 10th record bad (keys in the table and repeated in the file, CHECK, foreign key, types) into PostgreSQL: exact rejects, good rows loaded, one staged batch', { timeout: 600_000 }, async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await loadDirty(t, h, false);
});

t.test('the same file into a 32-shard distributed Citus table: the same rejects and rows', { skip: cluster.skip ?? false, timeout: 600_000 }, async (t) => {
  const h = await createHarness({ databaseUrl: cluster.url ?? '' });
  t.teardown(() => h.close());
  await loadDirty(t, h, true);
});

t.test('small batches of a file with every 10th key repeated from the line before: after the first failed batch every batch goes straight to the stage; keys repeated across batches are caught too', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.pairs`;
  await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int)`);
  const lines: string[] = [];
  const bad: number[] = [];
  let sum = 0;
  for (let line = 1; line <= 3000; line++) {
    if (line % 10 === 0) {
      lines.push(`${line - 1},${line}\n`);
      bad.push(line);
    } else {
      lines.push(`${line},${line}\n`);
      sum += line;
    }
  }
  const client = await h.db.connect();
  t.teardown(() => client.release());
  const target = await resolveTarget(client, table);
  // prom-client hands out its live values: each reading is taken as numbers at once.
  const value = async (name: string, label: string, of: string) =>
    (await processRegistry.getSingleMetric(name)!.get()).values.find((v) => v.labels[label] === of)?.value ?? 0;
  const reading = async () => ({
    staged: await value('citus_ingest_staged_batches_total', 'outcome', 'loaded'),
    fellBack: await value('citus_ingest_staged_batches_total', 'outcome', 'fell_back'),
    target: await value('citus_ingest_isolation_copies_total', 'into', 'target'),
  });
  const before = await reading();
  await client.query('BEGIN');
  const { loader, rejects } = csvBatchLoader(client, {
    batchBytes: 2048, // about 230 records: the repeated keys fall within batches and across their edges
    statement: () => copyStatement(target, CSV),
    stage: () => batchStage(target, target.columns, CSV),
  });
  const file = Buffer.from(lines.join(''));
  const pieces = Array.from({ length: Math.ceil(file.length / 512) }, (_, i) => file.subarray(i * 512, (i + 1) * 512));
  await pipeline(Readable.from(pieces), loader);
  await client.query('COMMIT');
  t.same(rejects.map((r) => [r.line, r.sqlstate]), bad.map((l) => [l, '23505']));
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, sum(v)::int AS s FROM ${table}`);
  t.same(rows[0], { n: 3000 - bad.length, s: sum });
  const after = await reading();
  // Batches end at the first piece past 2,048 bytes: about file.length / (2,048 + 256) of them.
  const batches = Math.floor(file.length / (2048 + 512));
  t.ok(after.staged - before.staged >= batches, `every batch through the stage (${after.staged - before.staged}, at least ${batches})`);
  t.equal(after.fellBack - before.fellBack, 0);
  t.equal(after.target - before.target, 0, 'no COPY into the target to isolate records');
});

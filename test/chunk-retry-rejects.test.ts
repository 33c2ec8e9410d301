// atomicity "chunk" retried after an earlier attempt committed chunks that held rejects (found by the
// soak, seed 229797804: a chunked job's retry failed RECORD_COUNT_MISMATCH). The retry skips those chunks,
// so PostgreSQL never refuses their bad records again; they must still count as the file's rejects, in
// its record reconciliation and against maxErrors.
import t from 'tap';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';

const LINES = 40_000;
const CHUNK_BYTES = 65_536;

/** A headerless CSV of `a,b` lines whose a is the line number; the lines in `bad` carry a non-integer a. */
function csv(bad: number[]): { body: string; goodSum: number } {
  const lines: string[] = [];
  let goodSum = 0;
  for (let line = 1; line <= LINES; line++) {
    if (bad.includes(line)) lines.push(`x${line},"bad"`);
    else {
      lines.push(`${line},"row ${line}"`);
      goodSum += line;
    }
  }
  return { body: `${lines.join('\n')}\n`, goodSum };
}

/**
 * Undoes what a crash would not have committed: the file-ledger row and every chunk whose lines `keep`
 * rejects (with its rows and ledger row). Returns the lines of the chunks left committed.
 */
async function crashAfter(h: Harness, table: string, body: string, keep: (lines: number[]) => boolean): Promise<number> {
  const target = `"${h.schema}"."${table}"`;
  const chunks = await h.db.query<{ byte_start: string; byte_end: string }>(`SELECT byte_start, byte_end FROM ingest.chunk_ledger WHERE target = $1 ORDER BY byte_start`, [target]);
  const bytes = Buffer.from(body);
  let kept = 0;
  for (const c of chunks.rows) {
    const text = bytes.subarray(Number(c.byte_start), Number(c.byte_end)).toString('utf8');
    const first = bytes.subarray(0, Number(c.byte_start)).toString('utf8').split('\n').length;
    const lines = text.split('\n').filter((l) => l !== '').map((_, i) => first + i);
    if (keep(lines)) {
      kept += lines.length;
      continue;
    }
    await h.db.query(`DELETE FROM ${h.schema}.${table} WHERE a BETWEEN $1 AND $2`, [lines[0], lines.at(-1)]);
    await h.db.query(`DELETE FROM ingest.chunk_ledger WHERE target = $1 AND byte_start = $2`, [target, c.byte_start]);
  }
  await h.db.query(`DELETE FROM ingest.file_ledger WHERE target = $1`, [target]);
  return kept;
}

t.test('a retry that skips committed chunks holding rejects loads the rest, every good row once', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const bad = [7, 12_000, 25_000, 39_990];
  const { body, goodSum } = csv(bad);
  const url = await h.put('n.csv', body);
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int, b text)`);
  const svc = await h.start();
  const spec = { source: { url }, format: { header: false }, target: { table: `${h.schema}.n` }, atomicity: 'chunk', streams: 2, chunkBytes: CHUNK_BYTES, maxErrors: 10 };
  const first = await waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id);
  t.equal(first.status, 'succeeded', JSON.stringify(first.error));

  // The chunks holding a bad line stay committed; the others are lost.
  const kept = await crashAfter(h, 'n', body, (lines) => lines.some((l) => bad.includes(l)));
  const before = Number((await h.db.query(`SELECT count(*) AS n FROM ${h.schema}.n`)).rows[0].n);
  t.equal(before, kept - bad.length, 'the kept chunks hold their good rows');
  t.ok(before < LINES - bad.length, 'some chunks are missing');

  const again = await waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id);
  t.equal(again.status, 'succeeded', JSON.stringify(again.error));
  t.equal(again.result.rowsLoaded, LINES - bad.length - before, 'only the missing chunks loaded');
  const after = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT a)::int AS d, sum(a)::bigint::text AS s FROM ${h.schema}.n`);
  t.same(after.rows[0], { n: LINES - bad.length, d: LINES - bad.length, s: String(goodSum) });
  const ledger = await h.db.query(`SELECT rows_loaded FROM ingest.file_ledger WHERE target = $1`, [`"${h.schema}"."n"`]);
  t.same(ledger.rows, [{ rows_loaded: LINES - bad.length }], 'the file ledger row counts every good row');
});

t.test("a retry counts the committed chunks' rejects against maxErrors", async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  // Three bad lines early, three late: six in all, over a budget of four.
  const early = [5, 10, 15];
  const late = [39_980, 39_985, 39_990];
  const { body } = csv([...early, ...late]);
  const url = await h.put('m.csv', body);
  await h.db.query(`CREATE TABLE ${h.schema}.m (a int, b text)`);
  const svc = await h.start();
  const spec = { source: { url }, format: { header: false }, target: { table: `${h.schema}.m` }, atomicity: 'chunk', streams: 2, chunkBytes: CHUNK_BYTES };
  const first = await waitForJob(svc.url!, (await postJob(svc.url!, { ...spec, maxErrors: 10 })).body.id);
  t.equal(first.status, 'succeeded', JSON.stringify(first.error));

  // The early chunks (with three rejects) stay committed; the chunks holding the late bad lines are lost.
  await crashAfter(h, 'm', body, (lines) => !lines.some((l) => late.includes(l)));
  const again = await waitForJob(svc.url!, (await postJob(svc.url!, { ...spec, maxErrors: 4 })).body.id);
  t.equal(again.status, 'failed');
  t.equal(again.error?.code, 'ERROR_BUDGET_EXCEEDED', again.error?.message);
  const ledger = await h.db.query(`SELECT count(*)::int AS n FROM ingest.file_ledger WHERE target = $1`, [`"${h.schema}"."m"`]);
  t.equal(ledger.rows[0].n, 0, 'the file is not in the ledger');
});

t.test('a chunk a twin job commits while this job waits for its claim counts as skipped, rows and rejects', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const bad = [7, 30_000];
  const { body, goodSum } = csv(bad);
  const url = await h.put('w.csv', body);
  const spec = (table: string) => ({ source: { url }, format: { header: false }, target: { table: `${h.schema}.${table}` }, atomicity: 'chunk', streams: 2, chunkBytes: CHUNK_BYTES, maxErrors: 10 });
  // The probe load gives the cuts, the object's ledger identity and a job for the twin's ledger row.
  await h.db.query(`CREATE TABLE ${h.schema}.probe (a int, b text); CREATE TABLE ${h.schema}.w (a int, b text)`);
  const svc = await h.start();
  const probe = await waitForJob(svc.url!, (await postJob(svc.url!, spec('probe'))).body.id);
  t.equal(probe.status, 'succeeded', JSON.stringify(probe.error));
  const first = (await h.db.query<{ byte_end: string; rows_loaded: string }>(`SELECT byte_end, rows_loaded FROM ingest.chunk_ledger WHERE target = $1 AND byte_start = 0`, [`"${h.schema}"."probe"`])).rows[0]!;
  const lastLine = Buffer.from(body).subarray(0, Number(first.byte_end)).toString('utf8').split('\n').length - 1;

  // The twin: the first chunk (line 7 rejected) loaded into w and claimed, its transaction held open.
  const twin = await h.db.connect();
  t.teardown(() => twin.release());
  await twin.query('BEGIN');
  await twin.query(`INSERT INTO ${h.schema}.w SELECT * FROM ${h.schema}.probe WHERE a <= $1`, [lastLine]);
  await twin.query(
    `INSERT INTO ingest.chunk_ledger (target, scheme, container, key, version, size, byte_start, byte_end, job_id, run_id, target_oid, rows_loaded)
     SELECT $1, scheme, container, key, version, size, byte_start, byte_end, job_id, run_id, $2::regclass::oid, rows_loaded
       FROM ingest.chunk_ledger WHERE target = $3 AND byte_start = 0`,
    [`"${h.schema}"."w"`, `${h.schema}.w`, `"${h.schema}"."probe"`],
  );
  const twinPid = (await twin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const id = (await postJob(svc.url!, spec('w'))).body.id;
  // The job's claim of the first chunk waits for the twin; then the twin commits.
  let waited = false;
  for (let i = 0; i < 300 && !waited; i++) {
    waited = (await h.db.query(`SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [twinPid])).rows.length > 0;
    if (!waited) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(waited, "the job's claim waited for the twin's transaction");
  await twin.query('COMMIT');
  const job = await waitForJob(svc.url!, id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.rowsLoaded, LINES - bad.length - (Number(first.rows_loaded)), 'the twin\'s chunk was not loaded again');
  const after = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT a)::int AS d, sum(a)::bigint::text AS s FROM ${h.schema}.w`);
  t.same(after.rows[0], { n: LINES - bad.length, d: LINES - bad.length, s: String(goodSum) });
});

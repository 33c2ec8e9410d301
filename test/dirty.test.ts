// Dirty input: error budgets, rejects with original coordinates, and the format options users expect.
import t from 'tap';
import { gzipSync } from 'node:zlib';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { pricePaidCsv, pricePaidStream } from '../src/gen/pricePaid.js';

const text16 = Array.from({ length: 16 }, (_, i) => `c${i + 1} text`).join(', ');

async function run(h: Harness, url: string, spec: Record<string, unknown>) {
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, ...spec });
  if (res.status !== 202) throw new Error(JSON.stringify(res.body));
  const job = await waitForJob(svc.url!, res.body.id, undefined, 120_000);
  const rejects = (await (await fetch(`${svc.url}/jobs/${res.body.id}/rejects?limit=1000`)).json()) as any;
  return { job, rejects, svc };
}

t.test('a truncated last record: maxErrors 0 fails with its line and leaves the table untouched; maxErrors 5 loads the rest and rejects it', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.pp (transaction_unique_identifier uuid PRIMARY KEY, price int, d timestamp, ${Array.from({ length: 13 }, (_, i) => `x${i} text`).join(', ')})`);
  const full = pricePaidCsv(300, 61).toString('utf8');
  const cut = full.slice(0, full.length - 30); // inside the 300th record's quoted fields
  const url = await h.put('cut.csv', cut);

  const strict = await run(h, url, { target: { table: `${h.schema}.pp` } });
  t.equal(strict.job.status, 'failed');
  t.equal(strict.job.error.code, 'DATA_REJECTED');
  t.equal(strict.job.error.details.line, 300);
  t.match(strict.job.error.message, /truncated/);
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.pp`)).rows[0].n, 0);

  const lenient = await run(h, url, { target: { table: `${h.schema}.pp` }, maxErrors: 5 });
  t.equal(lenient.job.status, 'succeeded', JSON.stringify(lenient.job.error));
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.pp`)).rows[0].n, 299);
  t.equal(lenient.job.result.rowsRejected, 1);
  t.equal(lenient.rejects.total, 1);
  const r = lenient.rejects.rejects[0];
  t.equal(r.line, 300);
  t.equal(r.byteOffset, Buffer.byteLength(full.split('\n').slice(0, 299).join('\n')) + 1);
  t.equal(r.sqlstate, '22P04');
  t.ok(cut.endsWith(r.record), 'the raw record is the truncated tail');
  t.equal(lenient.job.result.rejects.first[0].line, 300, 'the job result carries the first rejects');
});

t.test('one bad value in the middle of a 1,000,000-row file: its line is reported and every other row loads', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.pp (id uuid, price int, ${Array.from({ length: 14 }, (_, i) => `x${i} text`).join(', ')})`);
  const rows = 1_000_000;
  const bad = 654_321;
  const chunks: Buffer[] = [];
  for await (const c of pricePaidStream(rows, 62)) chunks.push(c as Buffer);
  const lines = Buffer.concat(chunks).toString('utf8').split('\n');
  lines[bad - 1] = lines[bad - 1]!.replace(/^("[^"]*"),"(\d+)"/, '$1,"12O00"');
  const url = await h.put('big.csv', lines.join('\n'));
  const { job, rejects } = await run(h, url, { target: { table: `${h.schema}.pp` }, maxErrors: 10 });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.rowsLoaded, rows - 1);
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.pp`)).rows[0].n, rows - 1);
  t.equal(rejects.total, 1);
  t.equal(rejects.rejects[0].line, bad);
  t.equal(rejects.rejects[0].column, 'price');
  t.equal(rejects.rejects[0].sqlstate, '22P02');
});

t.test('over the error budget the whole file rolls back and every reject found is listed', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int, b int)`);
  const body = Array.from({ length: 2000 }, (_, i) => (i % 500 === 7 ? `${i},x` : `${i},${i}`)).join('\n') + '\n';
  const url = await h.put('n.csv', body);
  const { job, rejects } = await run(h, url, { target: { table: `${h.schema}.n` }, maxErrors: 2 });
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'ERROR_BUDGET_EXCEEDED');
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.n`)).rows[0].n, 0, 'nothing committed');
  t.same(rejects.rejects.map((r: any) => r.line), [8, 508, 1008], 'the third reject broke the budget');
  t.equal((await h.db.query('SELECT count(*)::int AS n FROM ingest.file_ledger WHERE job_id = $1', [job.id])).rows[0].n, 0);

  const ratio = await run(h, url, { target: { table: `${h.schema}.n` }, maxErrors: 100, maxErrorRatio: 0.001 });
  t.equal(ratio.job.status, 'failed');
  t.equal(ratio.job.error.code, 'ERROR_BUDGET_EXCEEDED');
  t.match(ratio.job.error.message, /4 of 2000 records rejected, over maxErrorRatio=0.001/);
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.n`)).rows[0].n, 0);
});

t.test('a dry run reports what would be rejected and leaves the table and the ledger untouched', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int, b date)`);
  const url = await h.put('d.csv', '1,2024-01-01\n2,2024-02-30\n3,2024-03-01\nfour,2024-04-01\n');
  const { job, rejects } = await run(h, url, { target: { table: `${h.schema}.n` }, dryRun: true });
  t.equal(job.status, 'succeeded');
  t.same(job.result.dryRun, { rowsValid: 2, rowsRejected: 2, filesValidated: 1 });
  t.same(rejects.rejects.map((r: any) => [r.line, r.column]), [[2, 'b'], [4, 'a']]);
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.n`)).rows[0].n, 0);
  t.equal((await h.db.query('SELECT count(*)::int AS n FROM ingest.file_ledger WHERE job_id = $1', [job.id])).rows[0].n, 0);
});

t.test('a BOM, blank lines and a header: dropped, counted, and line numbers stay true', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.p (name text, qty int)`);
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Name,Qty\r\n\r\napple,1\r\npear,x\r\n\r\n\r\nplum,3\r\n')]);
  const url = await h.put('bom.csv', body);
  const { job, rejects } = await run(h, url, { format: { header: true }, target: { table: `${h.schema}.p`, columns: 'header' }, maxErrors: 1 });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.rowsLoaded, 2);
  t.equal(job.result.blankLines, 3);
  t.same(rejects.rejects.map((r: any) => [r.line, r.record]), [[4, 'pear,x']]);
  const { rows } = await h.db.query(`SELECT string_agg(name || '=' || qty, ' ' ORDER BY name) AS s FROM ${h.schema}.p`);
  t.equal(rows[0].s, 'apple=1 plum=3');

  const headless = await h.put('bom2.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('fig,4\n')]));
  const second = await run(h, headless, { target: { table: `${h.schema}.p` } });
  t.equal(second.job.status, 'succeeded', JSON.stringify(second.job.error));
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.p WHERE name = 'fig'`)).rows[0].n, 1, 'no BOM in the first value');
});

t.test('columns from the header: reordered columns load, an unknown header name is a clear error', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.p (id int, "Town/City" text, price int)`);
  const url = await h.put('h.csv', 'PRICE,id,Town/City\n100,1,YORK\n');
  const ok = await run(h, url, { format: { header: true }, target: { table: `${h.schema}.p`, columns: 'header' } });
  t.equal(ok.job.status, 'succeeded', JSON.stringify(ok.job.error));
  const { rows } = await h.db.query(`SELECT id, "Town/City" AS town, price FROM ${h.schema}.p`);
  t.same(rows, [{ id: 1, town: 'YORK', price: 100 }]);
  const badUrl = await h.put('h2.csv', 'id,county\n2,X\n');
  const bad = await run(h, badUrl, { format: { header: true }, target: { table: `${h.schema}.p`, columns: 'header' } });
  t.equal(bad.job.status, 'failed');
  t.equal(bad.job.error.code, 'TARGET_COLUMN_NOT_FOUND');
  t.match(bad.job.error.message, /"county"/);
});

t.test('a LATIN1 file is transcoded by the database', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.l (street text)`);
  const url = await h.put('latin1.csv', Buffer.from('"CAFÉ ROAD"\n"NIÑO\'S LANE"\n', 'latin1'));
  const { job } = await run(h, url, { format: { encoding: 'LATIN1' }, target: { table: `${h.schema}.l` } });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const { rows } = await h.db.query(`SELECT string_agg(street, '|' ORDER BY street) AS s FROM ${h.schema}.l`);
  t.equal(rows[0].s, "CAFÉ ROAD|NIÑO'S LANE");
});

t.test('gzip streams through; a corrupt gzip fails clearly and loads nothing', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.pp (${text16})`);
  const gz = gzipSync(pricePaidCsv(3000, 63));
  const good = await run(h, await h.put('pp.csv.gz', gz), { target: { table: `${h.schema}.pp` } });
  t.equal(good.job.status, 'succeeded', JSON.stringify(good.job.error));
  t.equal(good.job.result.rowsLoaded, 3000);
  t.equal(good.job.result.bytesRead, gz.length, 'progress counts the compressed bytes read');
  const broken = Buffer.from(gz);
  broken.fill(0x41, 2000, 2100);
  const bad = await run(h, await h.put('broken.csv.gz', broken), { target: { table: `${h.schema}.pp` } });
  t.equal(bad.job.status, 'failed');
  t.equal(bad.job.error.code, 'SOURCE_CORRUPT');
  t.equal(bad.job.attempts, 1, 'not retried');
  const truncated = await run(h, await h.put('short.csv.gz', gz.subarray(0, gz.length - 500)), { target: { table: `${h.schema}.pp` } });
  t.equal(truncated.job.error?.code, 'SOURCE_CORRUPT');
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.pp`)).rows[0].n, 3000, 'only the good file');
});

t.test('an empty file and a header-only file load zero rows and succeed', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.e (a int, b text)`);
  const empty = await run(h, await h.put('empty.csv', ''), { target: { table: `${h.schema}.e` } });
  t.equal(empty.job.status, 'succeeded', JSON.stringify(empty.job.error));
  t.equal(empty.job.result.rowsLoaded, 0);
  const headerOnly = await run(h, await h.put('header.csv', 'a,b\n'), { format: { header: true }, target: { table: `${h.schema}.e` } });
  t.equal(headerOnly.job.status, 'succeeded', JSON.stringify(headerOnly.job.error));
  t.equal(headerOnly.job.result.rowsLoaded, 0);
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.e`)).rows[0].n, 0);
});

t.test('rejects page through with a cursor', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int)`);
  const url = await h.put('many.csv', Array.from({ length: 50 }, (_, i) => (i % 2 ? 'x' : String(i))).join('\n') + '\n');
  const { job, svc } = await run(h, url, { target: { table: `${h.schema}.n` }, maxErrors: 100 });
  t.equal(job.result.rowsRejected, 25);
  const lines: number[] = [];
  let cursor: string | null = null;
  do {
    const page = (await (await fetch(`${svc.url}/jobs/${job.id}/rejects?limit=10${cursor ? `&cursor=${cursor}` : ''}`)).json()) as any;
    t.equal(page.total, 25);
    lines.push(...page.rejects.map((r: any) => r.line));
    cursor = page.nextCursor;
  } while (cursor);
  t.same(lines, Array.from({ length: 25 }, (_, i) => 2 * i + 2));
});

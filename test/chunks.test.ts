// atomicity "chunk": one object over parallel COPY streams, each chunk committed with its ledger row.
import t from 'tap';
import { createHash } from 'node:crypto';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';
import { pricePaidCsv, pricePaidRows, ukPriceTableSql } from '../src/gen/pricePaid.js';

t.test('a file cut into chunks over 3 streams loads every row once, and the cuts are deterministic', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const rows = 60_000;
  const file = pricePaidCsv(rows, 71);
  const url = await h.put('pp.csv', file);
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const svc = await h.start();
  const spec = { source: { url }, target: { table: `${h.schema}.uk_price` }, atomicity: 'chunk', streams: 3, chunkBytes: 1 << 20 };
  const job = await waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.rowsLoaded, rows);
  const db = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT transaction_unique_identifier)::int AS d FROM ${h.schema}.uk_price`);
  t.same(db.rows[0], { n: rows, d: rows });
  const chunks = await h.db.query(
    `SELECT byte_start::bigint AS s, byte_end::bigint AS e, rows_loaded::int AS r FROM ingest.chunk_ledger WHERE target = $1 ORDER BY byte_start`,
    [`"${h.schema}"."uk_price"`],
  );
  const expectedChunks = Math.ceil(file.length / (1 << 20));
  t.equal(chunks.rows.length, expectedChunks, `${expectedChunks} chunks`);
  // Contiguous, each ending just past a line end at or beyond a multiple of chunkBytes.
  let at = 0;
  for (const c of chunks.rows) {
    t.equal(Number(c.s), at);
    t.ok(Number(c.e) === file.length || file[Number(c.e) - 1] === 0x0a);
    at = Number(c.e);
  }
  t.equal(at, file.length);
  t.equal(chunks.rows.reduce((a: number, c: any) => a + c.r, 0), rows);
  const sum = [...pricePaidRows(rows, 71)].reduce((a, f) => a + Number(f[1]), 0);
  const s = await h.db.query(`SELECT sum(price::bigint)::text AS s FROM ${h.schema}.uk_price`);
  t.equal(s.rows[0].s, String(sum));
});

t.test('after a crash only the missing chunks load', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const rows = 30_000;
  const file = pricePaidCsv(rows, 72);
  const url = await h.put('pp.csv', file);
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const svc = await h.start();
  const spec = { source: { url }, target: { table: `${h.schema}.uk_price` }, atomicity: 'chunk', streams: 2, chunkBytes: 1 << 20 };
  await waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id);
  // Simulate a crash that committed only some chunks: remove the others' rows and ledger entries, and
  // the object's file-ledger row (written only once every chunk is in).
  const target = `"${h.schema}"."uk_price"`;
  const kept = await h.db.query(`SELECT byte_start, byte_end FROM ingest.chunk_ledger WHERE target = $1 ORDER BY byte_start`, [target]);
  const lost = kept.rows.filter((_: any, i: number) => i % 2 === 1);
  for (const c of lost) {
    const chunk = file.subarray(Number(c.byte_start), Number(c.byte_end)).toString('utf8');
    const ids = [...chunk.matchAll(/^"\{([0-9A-F-]+)\}"/gm)].map((m) => m[1]);
    await h.db.query(`DELETE FROM ${h.schema}.uk_price WHERE transaction_unique_identifier = ANY($1::uuid[])`, [ids]);
    await h.db.query(`DELETE FROM ingest.chunk_ledger WHERE target = $1 AND byte_start = $2`, [target, c.byte_start]);
  }
  await h.db.query(`DELETE FROM ingest.file_ledger WHERE target = $1`, [target]);
  const before = (await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.uk_price`)).rows[0].n;
  t.ok(before < rows, `${rows - before} rows missing`);

  const again = await waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id);
  t.equal(again.status, 'succeeded', JSON.stringify(again.error));
  t.equal(again.result.rowsLoaded, rows - before, 'only the missing chunks loaded');
  const after = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT transaction_unique_identifier)::int AS d FROM ${h.schema}.uk_price`);
  t.same(after.rows[0], { n: rows, d: rows });
});

t.test('chunked loads with an error budget report rejects at their original lines', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int, b text)`);
  const lines = Array.from({ length: 40_000 }, (_, i) => `${i},"row ${i}"`);
  for (const bad of [5, 20_000, 39_999]) lines[bad - 1] = `x${bad},"bad"`;
  const body = 'a,b\n\n' + lines.join('\n') + '\n';
  const url = await h.put('n.csv', body);
  const svc = await h.start();
  const job = await waitForJob(svc.url!, (await postJob(svc.url!, {
    source: { url }, format: { header: true }, target: { table: `${h.schema}.n` }, atomicity: 'chunk', streams: 2, chunkBytes: 65536, maxErrors: 10,
  })).body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.rowsLoaded, 39_997);
  const rej = (await (await fetch(`${svc.url}/jobs/${job.id}/rejects`)).json()) as any;
  t.same(rej.rejects.map((r: any) => r.line).sort((a: number, b: number) => a - b), [5 + 2, 20_000 + 2, 39_999 + 2]);
  const md5 = createHash('md5');
  t.ok(md5, 'ok');
});

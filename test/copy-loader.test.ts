// CopyLoader's batch mode against PostgreSQL with small batches: many batches through one reused
// buffer, a piece larger than that buffer, and bad records in several batches, each isolated with its
// line while every other row lands once.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import { csvBatchLoader } from './helpers/csvBatchLoader.js';
import { createHarness } from './helpers/harness.js';

t.test('batch mode over many small batches loads every good row once and rejects the bad ones by line', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.batched`;
  await h.db.query(`CREATE TABLE ${table} (id int, name text)`);
  const rows = 3000;
  const bad = new Set([10, 1500, 1501, 2999]);
  const lines: string[] = [];
  let expectedSum = 0;
  for (let i = 1; i <= rows; i++) {
    lines.push(`${bad.has(i) ? 'x' : i},"${`name ${i} `.repeat(100)}"\n`);
    if (!bad.has(i)) expectedSum += i;
  }
  const file = Buffer.from(lines.join(''));
  // Small pieces, then one of 1.5 MB (larger than the batch buffer's first size), then middling ones.
  const chunks: Buffer[] = [];
  let at = 0;
  const cut = (n: number): void => {
    chunks.push(file.subarray(at, Math.min(file.length, at + n)));
    at = Math.min(file.length, at + n);
  };
  while (at < 1 << 20) cut(1000);
  cut(1_500_000);
  while (at < file.length) cut(7000);

  const client = await h.db.connect();
  t.teardown(() => client.release());
  await client.query('BEGIN');
  const { loader, rejects } = csvBatchLoader(client, {
    batchBytes: 64 * 1024,
    statement: () => `COPY ${table} FROM STDIN WITH (FORMAT csv)`,
  });
  await pipeline(Readable.from(chunks), loader);
  await client.query('COMMIT');

  t.equal(loader.rowsLoaded, rows - bad.size);
  t.same(rejects.map((r) => r.line), [...bad], 'each bad record, by its line');
  t.ok(rejects.every((r) => r.record.startsWith('x,"name ')), 'with its own text');
  const { rows: got } = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, sum(id)::bigint AS s, min(length(name))::int AS len FROM ${table}`);
  t.same(got[0], { n: rows - bad.size, d: rows - bad.size, s: expectedSum, len: 'name 1 '.length * 100 });
});

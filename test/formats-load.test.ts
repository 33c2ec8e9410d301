// Parquet and JSON Lines through the whole service: a Spark-shaped Parquet directory into a distributed
// Citus table (every row once, by count, sum and md5), a row the table refuses reported by row group
// and row, Parquet chunks cut at row groups, and JSON Lines with nested values and refused lines.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';
import { writeParquet } from './helpers/parquetFiles.js';

const cluster = citusCluster();

interface Sale {
  id: number;
  price: number;
  sold: number; // days since 1970-01-01
  postcode: string | null;
}

/** Sales rows from `first` on, the price of row `bad` (if any) below zero. */
function sales(first: number, n: number, bad?: number): Sale[] {
  return Array.from({ length: n }, (_, k) => {
    const id = first + k;
    return { id, price: id === bad ? -5 : 50_000 + ((id * 7919) % 900_000), sold: 12_000 + (id % 4000), postcode: id % 11 === 0 ? null : `PC${id % 97} ${id % 10}XY` };
  });
}

function parquetOf(rows: Sale[], rowGroupSize: number): Buffer {
  return writeParquet(
    [
      { name: 'id', data: rows.map((r) => BigInt(r.id)) },
      { name: 'price', data: rows.map((r) => r.price) },
      { name: 'sold', data: rows.map((r) => r.sold) },
      { name: 'postcode', data: rows.map((r) => r.postcode) },
    ],
    [
      { name: 'spark_schema', num_children: 4 },
      { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'price', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'sold', type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
      { name: 'postcode', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ],
    'SNAPPY',
    rowGroupSize,
  );
}

const day = (n: number): string => new Date(n * 86_400_000).toISOString().slice(0, 10);
/** The md5 the table's rows must have: id, price, date and postcode (or "-"), one line each, by id. */
const md5Of = (rows: Sale[]): string =>
  createHash('md5').update([...rows].sort((a, b) => a.id - b.id).map((r) => `${r.id},${r.price},${day(r.sold)},${r.postcode ?? '-'}`).join('\n')).digest('hex');
const md5Sql = (table: string): string =>
  `SELECT count(*)::int AS n, sum(price)::bigint AS sum, md5(string_agg(id || ',' || price || ',' || sold || ',' || coalesce(postcode, '-'), E'\\n' ORDER BY id)) AS md5 FROM ${table}`;

async function put(h: Harness, key: string, body: Buffer | string): Promise<void> {
  await h.s3Client.send(new PutObjectCommand({ Bucket: h.bucket, Key: key, Body: body }));
}

async function rejectsOf(url: string, id: string): Promise<any[]> {
  return ((await (await fetch(`${url}/jobs/${id}/rejects?limit=100`)).json()) as any).rejects;
}

t.test('a Spark-shaped Parquet directory loads into a 32-shard distributed table, every row once; a rerun skips it', { skip: cluster.skip ?? false }, async (t) => {
  const h = await createHarness({ databaseUrl: cluster.url! });
  t.teardown(() => h.close());
  const dir = `spark/${randomUUID()}/`;
  const job = randomUUID();
  const parts = [sales(1, 2500), sales(2501, 1800), sales(4301, 3100)];
  for (const [i, rows] of parts.entries()) {
    const name = `part-${String(i).padStart(5, '0')}-${job}-c000.snappy.parquet`;
    await put(h, `${dir}${name}`, parquetOf(rows, 700));
    await put(h, `${dir}.${name}.crc`, Buffer.from('crc\0\0\0\x02\0', 'latin1'));
  }
  await put(h, `${dir}_SUCCESS`, '');
  const table = `${h.schema}.sales`;
  const svc = await h.start();
  const spec = {
    // No format.type: the .parquet suffix decides; the .crc files and _SUCCESS are bookkeeping.
    source: { url: `s3://${h.bucket}/${dir}`, waitForMarker: '_SUCCESS' },
    target: {
      table,
      create: { columns: [{ name: 'id', type: 'bigint', notNull: true }, { name: 'price', type: 'integer' }, { name: 'sold', type: 'date' }, { name: 'postcode', type: 'text' }], primaryKey: ['id'] },
      distribution: { column: 'id', shardCount: 32 },
    },
  };
  const res = await postJob(svc.url!, spec);
  t.equal(res.status, 202, JSON.stringify(res.body));
  const done = await waitForJob(svc.url!, res.body.id, undefined, 120_000);
  t.equal(done.status, 'succeeded', JSON.stringify(done.error));
  t.equal(done.result.filesLoaded, 3);
  const all = parts.flat();
  const got = (await h.db.query(md5Sql(table))).rows[0];
  t.same(got, { n: all.length, sum: String(all.reduce((a, r) => a + r.price, 0)), md5: md5Of(all) }, 'count, price sum and md5 equal the source');
  const shards = await h.db.query(`SELECT count(DISTINCT nodeport)::int AS nodes, count(*)::int AS shards FROM citus_shards WHERE table_name = $1::regclass`, [table]);
  t.same(shards.rows[0], { nodes: 2, shards: 32 });

  const again = await waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id, undefined, 60_000);
  t.equal(again.status, 'succeeded');
  t.equal(again.result.filesSkipped, 3, 'every part file is in the ledger');
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, all.length, 'nothing doubled');
});

t.test('a Parquet row a distributed table refuses is a reject with its row group and row; the rest loads', { skip: cluster.skip ?? false }, async (t) => {
  const h = await createHarness({ databaseUrl: cluster.url! });
  t.teardown(() => h.close());
  const table = `${h.schema}.checked`;
  await h.db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, price integer CHECK (price > 0), sold date, postcode text)`);
  await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 8)`, [table]);
  // 1,000 rows in row groups of 300: row 742 (absolute 741) is in group 2 (rows 600-899), its row 141.
  const rows = sales(1, 1000, 742);
  await put(h, 'refused.parquet', parquetOf(rows, 300));
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url: `s3://${h.bucket}/refused.parquet` }, format: { type: 'parquet' }, target: { table }, maxErrors: 5 });
  const done = await waitForJob(svc.url!, res.body.id, undefined, 120_000);
  t.equal(done.status, 'succeeded', JSON.stringify(done.error));
  t.equal(done.result.rowsRejected, 1);
  const rejects = await rejectsOf(svc.url!, res.body.id);
  t.equal(rejects.length, 1);
  t.same(rejects[0].position, { rowGroup: 2, row: 141, absoluteRow: 741 });
  t.equal(rejects[0].line, null, 'Parquet has no lines');
  t.match(rejects[0].url, /refused\.parquet$/);
  const good = rows.filter((r) => r.price > 0);
  t.same((await h.db.query(md5Sql(table))).rows[0], { n: good.length, sum: String(good.reduce((a, r) => a + r.price, 0)), md5: md5Of(good) });

});

t.test('Parquet chunks are cut at row groups and load once; columns are mapped by name and renamed', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const rows = sales(1, 6000);
  await put(h, 'big.parquet', parquetOf(rows, 500));
  const table = `${h.schema}.renamed`;
  // The table's own column names differ from the file's; a column with a default no field fills keeps it.
  await h.db.query(`CREATE TABLE ${table} (sale_id bigint, amount integer, sold date, postcode text, source text NOT NULL DEFAULT 'parquet')`);
  const svc = await h.start();
  const spec = {
    source: { url: `s3://${h.bucket}/big.parquet` },
    format: { type: 'parquet' },
    target: { table, columns: { id: 'sale_id', price: 'amount', sold: 'sold', postcode: 'postcode' } },
    atomicity: 'chunk',
    streams: 2,
    chunkBytes: 65536,
  };
  const done = await waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id, undefined, 120_000);
  t.equal(done.status, 'succeeded', JSON.stringify(done.error));
  const got = (await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT sale_id)::int AS ids, sum(amount)::bigint AS sum, count(*) FILTER (WHERE source = 'parquet')::int AS defaulted FROM ${table}`)).rows[0];
  t.same(got, { n: 6000, ids: 6000, sum: String(rows.reduce((a, r) => a + r.price, 0)), defaulted: 6000 });
  const chunks = await h.db.query(`SELECT count(*)::int AS n, sum(rows_loaded)::int AS rows FROM ingest.chunk_ledger WHERE target = $1`, [`"${h.schema}"."renamed"`]);
  t.ok(chunks.rows[0].n > 1, `more than one chunk (${chunks.rows[0].n})`);
  t.equal(chunks.rows[0].rows, 6000);
  const again = await waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id);
  t.equal(again.result.filesSkipped, 1);
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 6000);
});

t.test('a Parquet file that cannot fill a NOT NULL column fails naming it, before loading anything', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await put(h, 'short.parquet', parquetOf(sales(1, 10), 10));
  const table = `${h.schema}.needs`;
  await h.db.query(`CREATE TABLE ${table} (id bigint, price integer, region text NOT NULL)`);
  const svc = await h.start();
  const done = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: `s3://${h.bucket}/short.parquet` }, target: { table } })).body.id);
  t.equal(done.status, 'failed');
  t.equal(done.error.code, 'INVALID_SPEC');
  t.match(done.error.message, /region/);
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 0);
});

t.test('JSON Lines: fields by name, nested values into jsonb, a line that is not an object rejected with its line', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const lines = [
    JSON.stringify({ id: 1, name: 'one', tags: { a: [1, 2] }, extra: 'ignored' }),
    '',
    JSON.stringify({ name: 'two', id: 2, tags: null }),
    '{"id": 3, "name": "three", "tags": [', // not valid JSON: line 4
    JSON.stringify({ id: 4, name: 'line\nbreak', tags: { deep: { x: true } } }),
    '[5, "not an object"]', // line 6
    JSON.stringify({ id: 6 }),
  ];
  await put(h, 'events.jsonl', `${lines.join('\n')}\n`);
  const table = `${h.schema}.events`;
  await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text, tags jsonb)`);
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url: `s3://${h.bucket}/events.jsonl` }, target: { table }, maxErrors: 5 });
  const done = await waitForJob(svc.url!, res.body.id);
  t.equal(done.status, 'succeeded', JSON.stringify(done.error));
  t.equal(done.result.rowsLoaded, 4);
  t.equal(done.result.rowsRejected, 2);
  const rows = (await h.db.query(`SELECT id, name, tags FROM ${table} ORDER BY id`)).rows;
  t.same(rows, [
    { id: 1, name: 'one', tags: { a: [1, 2] } },
    { id: 2, name: 'two', tags: null },
    { id: 4, name: 'line\nbreak', tags: { deep: { x: true } } },
    { id: 6, name: null, tags: null },
  ]);
  const rejects = await rejectsOf(svc.url!, res.body.id);
  t.same(rejects.map((r) => r.line), [4, 6]);

  // Without a budget the first such line fails the file with its line, and nothing loads.
  const strictTable = `${h.schema}.events_strict`;
  await h.db.query(`CREATE TABLE ${strictTable} (id int, name text, tags jsonb)`);
  const strict = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: `s3://${h.bucket}/events.jsonl` }, target: { table: strictTable } })).body.id);
  t.equal(strict.status, 'failed');
  t.equal(strict.error.code, 'DATA_REJECTED');
  t.equal(strict.error.details.line, 4);
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${strictTable}`)).rows[0].n, 0);
});

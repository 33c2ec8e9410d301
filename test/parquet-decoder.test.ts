import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { ParquetDecoder, type ParquetDecoderOptions } from '../src/decode/parquet/parquetDecoder.js';
import { laterOutput } from '../src/decode/decoder.js';
import {
  codecs,
  copyGenerated,
  int96,
  int96File,
  parseGenerated,
  salesFile,
  testDatabaseUrl,
  typedColumns,
  typedRows,
  typesFile,
  writeSparkDir,
  type Codec,
} from './helpers/parquetFiles.js';

/** Chunk sizes from a seeded generator (1 to `max` bytes), so a failure can be run again. */
function chunkSizes(seed: number, max: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return 1 + (s % max);
  };
}

/** Decodes `file` through prepare() and push() in chunks of the sizes `next` gives. */
async function decode(file: Buffer, opts: Partial<ParquetDecoderOptions> & { columns: string[] }, next = chunkSizes(1, 200)) {
  const decoder = new ParquetDecoder({ trackRecords: true, ...opts });
  const reads: Array<{ start: number; end: number }> = [];
  const range = await decoder.prepare(async (r) => {
    reads.push(r);
    return file.subarray(r.start, r.end);
  }, file.length);
  const out: Buffer[] = [];
  for (let at = range.start; at < range.end; ) {
    const n = Math.min(next(), range.end - at);
    decoder.push(Buffer.from(file.subarray(at, at + n)), out);
    out.push(...laterOutput(decoder, { ms: 0 }));
    at += n;
  }
  decoder.end(out);
  out.push(...laterOutput(decoder, { ms: 0 }));
  const output = Buffer.concat(out);
  return { decoder, range, reads, output, records: parseGenerated(output.toString('utf8')) };
}

const allColumns = Object.keys(typedColumns);

t.test('every type reads back as its PostgreSQL text, under every codec, in any chunking', async (t) => {
  // Target order differs from the file's, and one target column has no field: records leave it out
  // (copyColumns names the rest, so the column's default applies).
  const columns = ['missing', ...[...allColumns].reverse()];
  for (const codec of codecs) {
    const file = typesFile({ codec });
    for (const seed of [1, 2]) {
      const { records, decoder } = await decode(file, { columns }, chunkSizes(seed, seed === 1 ? 7 : 300));
      t.equal(records.length, typedRows, `${codec}: rows`);
      t.equal(decoder.stats.records, typedRows);
      t.same(decoder.unfilled, ['missing']);
      t.same(decoder.copyColumns(), columns.slice(1), 'the records fill every column but the missing one, in target order');
      t.ok(records.every((r) => r.length === columns.length - 1), 'one field per filled column');
      for (const [c, name] of decoder.copyColumns().entries()) {
        t.same(records.map((r) => r[c]), typedColumns[name]!.text, `${codec} seed ${seed}: ${name}`);
      }
    }
  }
});

t.test('a row group larger than one decoding slice (65,536 rows) reads back row for row across the slices', async (t) => {
  const n = 150_000;
  const file = salesFile(n, n); // one row group, many pages per column
  const { records, decoder } = await decode(file, { columns: ['id', 'price', 'postcode', 'type'] }, chunkSizes(3, 1 << 16));
  t.equal(decoder.stats.records, n);
  t.equal(records.length, n);
  // salesFile's values are functions of the row: every row checked, not a sample.
  const bad = records.findIndex((r, i) =>
    r[0] !== String(i + 1) || r[1] !== String(100_000 + ((i * 7919) % 900_000)) || r[2] !== `AB${i % 97} ${i % 10}XY` || r[3] !== 'DSTFO'[i % 5]);
  t.equal(bad, -1, `every row in place${bad >= 0 ? ` (first wrong: ${bad}: ${JSON.stringify(records[bad])})` : ''}`);
});

t.test('prepare reads only the footer and returns the row groups\' byte range', async (t) => {
  const file = salesFile(1000, 250);
  const { range, reads, decoder } = await decode(file, { columns: ['id'] });
  t.ok(reads.length <= 2 && reads.every((r) => r.end === file.length), 'reads are of the tail (footer)');
  t.equal(range.start, 4, 'data starts after the magic');
  t.ok(range.end < file.length - 8);
  t.equal(decoder.stats.bytesIn, range.end - range.start);
  t.equal(decoder.stats.records, 1000);
  t.equal(decoder.stats.rowGroups, 4);
});

t.test('positions: line is the row + 1, offset the row group; describe gives group, row and file row', async (t) => {
  const { decoder, output } = await decode(typesFile({ rowGroupSize: 3 }), { columns: ['i32', 's'] }, chunkSizes(3, 50));
  const recs = decoder.records;
  t.equal(recs.length, typedRows);
  const text = output.toString('utf8');
  for (let k = 0; k < recs.length; k++) {
    t.equal(recs.line(k), k + 1);
    t.equal(recs.offset(k), Math.floor(k / 3));
    const start = k === 0 ? 0 : recs.end(k - 1);
    t.same(parseGenerated(Buffer.from(text).subarray(start, recs.end(k)).toString('utf8'))[0], [typedColumns.i32!.text[k], typedColumns.s!.text[k]]);
  }
  t.same(decoder.describe(8, 2), { line: null, byteOffset: null, rowGroup: 2, row: 1, absoluteRow: 7 });
  t.same(decoder.describe(10, 3), { line: null, byteOffset: null, rowGroup: 3, row: 0, absoluteRow: 9 });
  // Row 9 (line 9) holds "two\nlines": COPY counts it as two lines after the first record.
  t.equal(decoder.originalLine(8), 8);
  t.equal(decoder.originalLine(9), 9);
  t.equal(decoder.originalLine(10), 9);
  t.equal(decoder.originalLine(11), 10);
  // A COPY starting at row 9: its first record's LF is not counted by COPY (it counts CRs until a line end).
  t.equal(decoder.originalLineFrom(9, 1), 9);
  t.equal(decoder.originalLineFrom(9, 2), 10);
});

t.test('cuts fall at row-group boundaries, after cutEvery file bytes', async (t) => {
  const file = salesFile(1000, 100);
  const every = await decode(file, { columns: ['id', 'price'], cutEvery: 1 });
  const starts = every.decoder.metadata!.row_groups.map((g) => Number(g.columns[0]!.meta_data!.data_page_offset));
  t.equal(every.decoder.cuts.length, 9, 'every group but the last ends in a cut');
  for (const [i, cut] of every.decoder.cuts.entries()) {
    t.equal(cut.records, (i + 1) * 100);
    t.equal(cut.line, (i + 1) * 100 + 1);
    t.equal(cut.out, every.decoder.records.end(cut.records - 1));
    t.ok(cut.offset >= starts[i + 1]! - 64 && cut.offset <= starts[i + 1]!, 'offset is where the next group starts');
  }
  const size = every.range.end - every.range.start;
  const some = await decode(file, { columns: ['id'], cutEvery: Math.ceil(size / 3) });
  t.ok(some.decoder.cuts.length >= 2 && some.decoder.cuts.length <= 3, `a cut about every third of the file (${some.decoder.cuts.length})`);
  for (const cut of some.decoder.cuts) t.equal((cut.line - 1) % 100, 0);
});

t.test('a NOT NULL column without default that no field fills fails in prepare, naming it', async (t) => {
  const file = salesFile(10, 5);
  const targetColumns = [
    { name: 'id', notNull: true },
    { name: 'region', notNull: true },
  ];
  const d = new ParquetDecoder({ columns: ['id', 'region'], trackRecords: false, targetColumns });
  await t.rejects(d.prepare(async (r) => file.subarray(r.start, r.end), file.length), {
    code: 'INVALID_SPEC',
    details: { column: 'region' },
    message: /column "region" is NOT NULL without a default/,
  });
  const withDefault = new ParquetDecoder({ columns: ['id', 'region'], trackRecords: false, targetColumns: [targetColumns[0]!, { name: 'region', notNull: true, hasDefault: true }] });
  await withDefault.prepare(async (r) => file.subarray(r.start, r.end), file.length);
  t.same(withDefault.unfilled, ['region']);
});

t.test('a nested field into a column that is not json or jsonb fails in prepare, naming it', async (t) => {
  const file = typesFile({ columns: ['i32', 'tags'] });
  const d = new ParquetDecoder({ columns: ['i32', 'tags'], trackRecords: false, targetColumns: [{ name: 'i32', type: 'integer' }, { name: 'tags', type: 'text' }] });
  await t.rejects(d.prepare(async (r) => file.subarray(r.start, r.end), file.length), { code: 'INVALID_SPEC', details: { column: 'tags' }, message: /"tags" is nested/ });
});

t.test('renames map fields to columns; case-insensitive match when unambiguous', async (t) => {
  const file = salesFile(5, 5);
  const { records } = await decode(file, { columns: ['sale_id', 'PRICE'], rename: { id: 'sale_id' } });
  t.same(records[0], ['1', String(100_000)]);
});

t.test('INT96 (Spark\'s timestamps) reads as UTC timestamps', async (t) => {
  const epochJulian = 2440588;
  const values = [int96(epochJulian, 1n), int96(epochJulian + 19675, 80_000_123_456_000n), null, int96(epochJulian - 1, 86_399_999_999_999n)];
  const file = int96File(values);
  const { records, decoder } = await decode(file, { columns: ['id', 'ts'] }, chunkSizes(5, 9));
  t.equal(decoder.metadata!.schema[2]!.type, 'INT96', 'the file really has an INT96 column');
  t.same(records.map((r) => r[1]), ['1970-01-01 00:00:00.000000001+00', '2023-11-14 22:13:20.123456+00', null, '1969-12-31 23:59:59.999999999+00']);
});

t.test('a Spark output directory: the part files decode, the .crc files and _SUCCESS are not data', async (t) => {
  const dir = join(tmpdir(), `spark-${randomUUID()}`);
  await writeSparkDir(dir, [salesFile(50, 20), salesFile(30, 20)]);
  const names = (await readdir(dir)).sort();
  t.ok(names.includes('_SUCCESS'));
  t.equal(names.filter((n) => n.endsWith('.crc')).length, 3);
  const parts = names.filter((n) => /^part-\d{5}-[0-9a-f-]{36}-c000\.snappy\.parquet$/.test(n));
  t.equal(parts.length, 2);
  let rows = 0;
  for (const name of parts) rows += (await decode(await readFile(join(dir, name)), { columns: ['id'] })).records.length;
  t.equal(rows, 80);
});

t.test('a truncated stream fails at end() naming the row group', async (t) => {
  const file = salesFile(100, 50);
  const d = new ParquetDecoder({ columns: ['id'], trackRecords: false });
  const range = await d.prepare(async (r) => file.subarray(r.start, r.end), file.length);
  const out: Buffer[] = [];
  d.push(file.subarray(range.start, range.end - 10), out);
  t.throws(() => d.end(out), { code: 'SOURCE_CORRUPT', message: /row group 1 of 2/ });
});

t.test('the decoded text loads into PostgreSQL as the types it names', async (t) => {
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  await client.connect();
  const schema = `parquet_${randomUUID().replaceAll('-', '')}`;
  t.teardown(async () => {
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  });
  await client.query(`CREATE SCHEMA ${schema}`);
  const defs = allColumns.map((c) => `"${c}" ${typedColumns[c]!.pgType}`).join(', ');
  await client.query(`CREATE TABLE ${schema}.t (${defs})`);
  const { output } = await decode(typesFile({ codec: 'ZSTD' as Codec }), { columns: allColumns });
  t.equal(await copyGenerated(client, `${schema}.t`, allColumns, output), typedRows);

  const one = async (sql: string): Promise<unknown> => (await client.query(`SELECT ${sql} AS v FROM ${schema}.t`)).rows[0].v;
  const values = (name: string): unknown[] => typedColumns[name]!.values;
  const count = (name: string, pred: (v: any) => boolean): string => String(values(name).filter((v) => v !== null && pred(v)).length);
  const sum = (name: string): bigint => (values(name).filter((v) => v !== null) as bigint[]).reduce((a, b) => a + b, 0n);
  // Expected sums and counts computed here from the values written (exactly, with BigInt), compared in SQL.
  t.equal(await one(`sum(dec38) * 1e10 = ${sum('dec38')}::numeric`), true, 'numeric(38,10) exact');
  t.equal(await one(`sum(dec18) * 1e4 = ${sum('dec18')}::numeric`), true, 'numeric(18,4) exact');
  t.equal(await one(`sum(dec9) * 1e2 = ${sum('dec9')}::numeric`), true, 'numeric(9,2) exact');
  t.equal(await one(`sum(i64::numeric)::text`), String(sum('i64')));
  t.equal(await one(`count(*) FILTER (WHERE b)`), count('b', (v) => v === true));
  t.equal(await one(`count(*) FILTER (WHERE f64 = 'NaN')`), count('f64', Number.isNaN));
  t.equal(await one(`count(*) FILTER (WHERE f64 = '-Infinity')`), count('f64', (v) => v === Number.NEGATIVE_INFINITY));
  t.equal(await one(`count(*) FILTER (WHERE f32 = 0.1::real)`), count('f32', (v) => v === 0.1));
  t.equal(await one(`count(*) FILTER (WHERE bin = '\\x0001feff'::bytea)`), count('bin', (v) => v.length === 4));
  t.equal(await one(`count(*) FILTER (WHERE d = '0001-01-01 BC'::date)`), count('d', (v) => v === -719528));
  t.equal(await one(`count(*) FILTER (WHERE ts_ms = '2023-11-14 22:13:20.123+00')`), count('ts_ms', (v) => v === 1700000000123n));
  t.equal(await one(`count(*) FILTER (WHERE ts_ms = '1969-12-31 23:59:59.999+00')`), count('ts_ms', (v) => v === -1n));
  t.equal(await one(`max(extract(epoch FROM ts_ns))::text`), '1700000000.123456');
  t.equal(await one(`count(*) FILTER (WHERE ts_us = '2023-11-14 22:13:20.123456')`), count('ts_us', (v) => v === 1700000000123456n));
  t.equal(await one(`count(DISTINCT u)`), '2');
  t.equal(await one(`sum((st->>'x')::int)::text`), String(values('st').reduce((a: number, v: any) => a + (v?.x ?? 0), 0)));
  t.equal(await one(`sum((m->>'k1')::int)::text`), String(values('m').reduce((a: number, v: any) => a + (v?.k1 ?? 0), 0)));
  t.equal(await one(`count(*) FILTER (WHERE tags ? 'a')`), count('tags', (v) => v.includes('a')));
  t.equal(await one(`count(*) FILTER (WHERE s = 'two' || chr(10) || 'lines')`), count('s', (v) => v === 'two\nlines'));
  t.equal(await one(`count(*) FILTER (WHERE s = '')`), count('s', (v) => v === ''));
  t.equal(await one(`count(*) FILTER (WHERE s IS NULL)`), String(values('s').filter((v) => v === null).length));
  t.equal(await one(`count(*) FILTER (WHERE s = 'a "quoted", comma')`), count('s', (v) => v === 'a "quoted", comma'));

  await client.query(`CREATE TABLE ${schema}.sales (id bigint NOT NULL, price int NOT NULL, sold date, postcode text, type text)`);
  const sales = await decode(salesFile(5000, 1000), { columns: ['id', 'price', 'sold', 'postcode', 'type'] }, chunkSizes(9, 5000));
  t.equal(await copyGenerated(client, `${schema}.sales`, ['id', 'price', 'sold', 'postcode', 'type'], sales.output), 5000);
  let priceSum = 0;
  for (let i = 0; i < 5000; i++) priceSum += 100_000 + ((i * 7919) % 900_000);
  const r = await client.query(`SELECT sum(price)::text AS p, sum(id)::text AS i, min(sold)::text AS d FROM ${schema}.sales`);
  t.same(r.rows[0], { p: String(priceSum), i: String((5000 * 5001) / 2), d: '1997-05-19' });
});

// Hostile files against the real service (issue #30, items 2 and 3): a gzip of gigabytes with no line
// end, and a Parquet file of a few hundred bytes whose page claims 2 GiB. Each job must fail with a
// code that names the place, while this process (the worker runs in it) stays under 1 GiB of memory,
// read from /proc. And the limit (RECORD_MAX_BYTES) must still let real large records through.
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createGzip } from 'node:zlib';
import t from 'tap';
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { ByteWriter, parquetWriteBuffer } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { loadConfig } from '../src/config.js';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';

const MiB = 1 << 20;
const GiB = 1 << 30;
/** What the worker may hold at most while it refuses a hostile file. */
const RSS_CEILING = GiB;

/** The gzip of `pieces`, made as they stream (they are never all in memory at once). */
async function gzipOf(pieces: Iterable<Buffer>, level = 9): Promise<Buffer> {
  return buffer(Readable.from(pieces).pipe(createGzip({ level })));
}

/** `size` bytes of `byte` as 1 MiB pieces (one buffer, given again and again). */
function* repeated(byte: string, size: number): Generator<Buffer> {
  const piece = Buffer.alloc(MiB, byte);
  for (let left = size; left > 0; left -= MiB) yield left >= MiB ? piece : piece.subarray(0, left);
}

/**
 * A gzip bomb: `head` then `size` bytes of "a" with no line end. Gzip members may follow one another
 * in one file (gunzip reads them in turn), so one member of 64 MiB of "a" is made once and repeated.
 */
let bombMember: Promise<Buffer> | undefined;
async function bomb(head: string, size: number): Promise<Buffer> {
  const member = await (bombMember ??= gzipOf(repeated('a', 64 * MiB)));
  return Buffer.concat([await gzipOf([Buffer.from(head)]), ...Array.from({ length: size / (64 * MiB) }, () => member)]);
}

/** This process's resident memory now and its peak, in bytes (/proc/self/status). */
function rss(): { now: number; peak: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { now: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * Runs a job while watching this process's memory: the peak is reset first (clear_refs), and a job
 * that takes the process past the ceiling is cancelled at once, so a regression fails the test
 * without taking the machine down with it. Returns the ended job, the peak seen and the RSS before.
 */
async function watched(url: string, spec: unknown): Promise<{ job: any; peak: number; before: number }> {
  writeFileSync('/proc/self/clear_refs', '5');
  const before = rss().now;
  const res = await postJob(url, spec);
  if (res.status !== 202) throw new Error(JSON.stringify(res.body));
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, rss().now);
    if (peak > RSS_CEILING) void fetch(`${url}/jobs/${res.body.id}/cancel`, { method: 'POST' }).catch(() => {});
  }, 20);
  try {
    const job = await waitForJob(url, res.body.id, undefined, 120_000);
    return { job, peak: Math.max(peak, rss().peak), before };
  } finally {
    clearInterval(timer);
  }
}

async function rows(h: Harness, table: string): Promise<Array<{ a: string; size: number }>> {
  return (await h.db.query(`SELECT a, octet_length(b) AS size FROM ${h.schema}.${table} ORDER BY a`)).rows;
}

const bombs = [
  { name: 'CSV: a gzip of 4 GiB without a line end fails on line 1', key: 'bomb.csv.gz', table: 'bomb_csv', head: '', size: 4 * GiB, line: 1, byteOffset: 0 },
  {
    name: 'JSON Lines: a gzip of 1 GiB without a line end after two good lines fails on line 3, the two not committed',
    key: 'bomb.jsonl.gz',
    table: 'bomb_jsonl',
    head: '{"a":"1","b":"x"}\n{"a":"2","b":"y"}\n{"a":"3","b":"',
    size: GiB,
    line: 3,
    byteOffset: 36,
  },
];

/**
 * A small valid Parquet file (column `a`, INT32 1, 2, 3, snappy) whose one page header is rewritten
 * by `change`; the footer is written again for the header's new length.
 */
function parquetWithPage(change: (header: ReturnType<typeof parquetHeader>) => ReturnType<typeof parquetHeader>): Buffer {
  const file = parquetWriteBuffer({ columnData: [{ name: 'a', data: [1, 2, 3], type: 'INT32' }] });
  const metadata = parquetMetadata(file);
  const column = metadata.row_groups[0]!.columns[0]!.meta_data!;
  const reader = { view: new DataView(file, Number(column.data_page_offset)), offset: 0 };
  const header = parquetHeader(reader);
  const page = new Uint8Array(file, Number(column.data_page_offset) + reader.offset, header.compressed_page_size);
  const out = new ByteWriter();
  out.appendBytes(Buffer.from('PAR1'));
  // hyparquet-writer types its headers and footers with its own copy of hyparquet's types.
  writePageHeader(out, change(header) as unknown as Parameters<typeof writePageHeader>[1]);
  out.appendBytes(page);
  column.data_page_offset = 4n;
  column.total_compressed_size = BigInt(out.offset - 4);
  metadata.row_groups[0]!.total_compressed_size = column.total_compressed_size;
  const footer = out.offset;
  writeMetadata(out, metadata as unknown as Parameters<typeof writeMetadata>[1]);
  out.appendUint32(out.offset - footer);
  out.appendBytes(Buffer.from('PAR1'));
  return Buffer.from(out.getBuffer());
}

t.test('with the default RECORD_MAX_BYTES (one service for these cases)', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start();

  for (const b of bombs) {
    await t.test(`${b.name}: RECORD_TOO_LARGE, the worker under 1 GiB`, async (t) => {
      await h.db.query(`CREATE TABLE ${h.schema}.${b.table} (a text, b text)`);
      const file = await bomb(b.head, b.size);
      t.ok(file.length < 8 * MiB, `the file is ${file.length} bytes`);
      const url = await h.put(b.key, file);
      const { job, peak } = await watched(svc.url!, { source: { url }, target: { table: `${h.schema}.${b.table}` } });
      t.equal(job.status, 'failed', JSON.stringify(job.error));
      t.equal(job.error.code, 'RECORD_TOO_LARGE');
      t.equal(job.error.message.split(':')[0], `line ${b.line} of ${b.key}`);
      t.match(job.error.message, /RECORD_MAX_BYTES \(134217728 bytes\)/);
      t.match(job.error.details, { line: b.line, byteOffset: b.byteOffset, limit: 128 * MiB });
      t.ok(peak < RSS_CEILING, `peak RSS ${Math.round(peak / MiB)} MiB`);
      t.same(await rows(h, b.table), [], 'nothing loaded');
    });
  }

  await t.test('JSON Lines: 16 Mi blank lines cost no memory each; the bad record after them is named at its line', async (t) => {
    await h.db.query(`CREATE TABLE ${h.schema}.blank (a int, b text)`);
    // Before, each blank line took 24 bytes of the line map: 16 Mi of them grew the process by 584 MiB.
    const blank = 16 * MiB;
    const url = await h.put('blank.jsonl.gz', await gzipOf([...repeated('\n', blank), Buffer.from('{"a":1,"b":"x"}\n{"a":"two","b":"y"}\n')]));
    const { job, peak, before } = await watched(svc.url!, { source: { url }, target: { table: `${h.schema}.blank` } });
    t.equal(job.status, 'failed');
    t.equal(job.error.code, 'DATA_REJECTED', JSON.stringify(job.error));
    t.equal(job.error.details.line, blank + 2, 'the line of the bad record, past all the blank ones');
    t.ok(peak - before < 256 * MiB, `RSS grew by ${Math.round((peak - before) / MiB)} MiB`);
  });

  await t.test('the default limit lets a 100 MB record through as one row', async (t) => {
    await h.db.query(`CREATE TABLE ${h.schema}.big (a text, b text)`);
    const record = 100_000_000;
    const url = await h.put('big.csv.gz', await gzipOf([Buffer.from('1,'), ...repeated('b', record - 3), Buffer.from('\n2,small\n')], 1));
    const { job, peak } = await watched(svc.url!, { source: { url }, target: { table: `${h.schema}.big` } });
    t.equal(job.status, 'succeeded', JSON.stringify(job.error));
    t.same(await rows(h, 'big'), [{ a: '1', size: record - 3 }, { a: '2', size: 5 }]);
    t.ok(peak < RSS_CEILING, `peak RSS ${Math.round(peak / MiB)} MiB`);
  });

  await t.test('Parquet: a page claiming 2 GiB is refused before anything is allocated; one past its chunk is corrupt', async (t) => {
    const table = `${h.schema}.pq`;
    await h.db.query(`CREATE TABLE ${table} (a int)`);
    const good = await h.put('good.parquet', parquetWithPage((header) => header));
    const ok = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: good }, target: { table } })).body.id);
    t.equal(ok.status, 'succeeded', JSON.stringify(ok.error));
    t.same((await h.db.query(`SELECT sum(a)::int AS sum FROM ${table}`)).rows, [{ sum: 6 }], 'the rewritten file itself is sound');

    const huge = parquetWithPage((header) => ({ ...header, uncompressed_page_size: 2 ** 31 - 1 }));
    t.ok(huge.length < 400, `the file is ${huge.length} bytes`);
    const keys = ['huge-1.parquet', 'huge-2.parquet', 'huge-3.parquet'];
    for (const key of keys) await h.put(`huge/${key}`, huge);
    const { job, peak } = await watched(svc.url!, { source: { url: 's3://landing/huge/' }, target: { table }, concurrency: 3 });
    t.equal(job.status, 'failed', JSON.stringify(job.error));
    t.equal(job.error.code, 'PAGE_TOO_LARGE');
    t.match(job.error.message, /^huge\/huge-\d\.parquet: the Parquet page of column a at byte 4 declares 2147483647 uncompressed bytes/);
    t.match(job.error.details, { column: 'a', pageOffset: 4, uncompressedPageSize: 2 ** 31 - 1, limit: 128 * MiB });
    t.ok(peak < RSS_CEILING, `peak RSS ${Math.round(peak / MiB)} MiB`);

    const past = await h.put('past.parquet', parquetWithPage((header) => ({ ...header, compressed_page_size: 1000 })));
    const corrupt = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: past }, target: { table } })).body.id);
    t.equal(corrupt.status, 'failed');
    t.equal(corrupt.error.code, 'SOURCE_CORRUPT', JSON.stringify(corrupt.error));
    t.match(corrupt.error.details, { column: 'a', pageOffset: 4, compressedPageSize: 1000 });
    t.same((await h.db.query(`SELECT sum(a)::int AS sum FROM ${table}`)).rows, [{ sum: 6 }], 'only the sound file loaded');
  });
});

t.test('RECORD_MAX_BYTES of 4 MiB: a 3 MiB record loads as one row, a 5 MiB one fails naming its line', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  // Through the configuration's own validation, as RECORD_MAX_BYTES=4194304 would come.
  const svc = await h.start('all', { recordMaxBytes: loadConfig({ RECORD_MAX_BYTES: String(4 * MiB) }).recordMaxBytes });
  for (const [format, line] of [
    ['csv', (a: number, b: string) => `${a},${b}\n`],
    ['jsonl', (a: number, b: string) => `${JSON.stringify({ a: String(a), b })}\n`],
  ] as const) {
    const table = `${h.schema}.${format}`;
    await h.db.query(`CREATE TABLE ${table} (a text, b text)`);
    const three = await h.put(`three.${format}`, line(1, 'x') + line(2, 'c'.repeat(3 * MiB)) + line(3, 'y'));
    const ok = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: three }, target: { table } })).body.id);
    t.equal(ok.status, 'succeeded', `${format}: ${JSON.stringify(ok.error)}`);
    t.same(await rows(h, format), [{ a: '1', size: 1 }, { a: '2', size: 3 * MiB }, { a: '3', size: 1 }], `${format}: three rows`);

    await h.db.query(`TRUNCATE ${table}`);
    for (const maxErrors of [0, 10]) {
      const five = await h.put(`five-${maxErrors}.${format}`, line(1, 'x') + line(2, 'y') + line(3, 'c'.repeat(5 * MiB)) + line(4, 'z'));
      const failed = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: five }, target: { table }, maxErrors })).body.id);
      t.equal(failed.status, 'failed', `${format}, maxErrors ${maxErrors}`);
      t.equal(failed.error.code, 'RECORD_TOO_LARGE');
      t.match(failed.error.message, new RegExp(`^line 3 of five-${maxErrors}\\.${format}: .*\\(4194304 bytes\\)`));
      t.match(failed.error.details, { line: 3, limit: 4 * MiB });
      t.same(await rows(h, format), [], `${format}: nothing committed`);
    }
  }
});

t.test('RECORD_MAX_BYTES is validated with the rest of the configuration', async (t) => {
  t.equal(loadConfig({}).recordMaxBytes, 128 * MiB, 'the default passes a 100 MB record');
  t.equal(loadConfig({ RECORD_MAX_BYTES: '4194304' }).recordMaxBytes, 4 * MiB);
  t.throws(() => loadConfig({ RECORD_MAX_BYTES: '1000' }), { name: 'ConfigError', message: /RECORD_MAX_BYTES must be >= 1048576/ });
  t.throws(() => loadConfig({ RECORD_MAX_BYTES: 'lots' }), /RECORD_MAX_BYTES must be integer/);
});

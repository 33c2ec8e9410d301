// --format parquet: the benchmark's rows (the same generator and seed as the CSV data file) written as
// Parquet the way Spark writes a DataFrame: snappy, dictionary-encoded strings, the price as an int and
// the date as a microsecond timestamp, in row groups of --row-group-rows. Kept beside the CSV file and
// reused while rows, seed and row-group size match. Also the decoder's own rate, without a database.
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import { laterOutput } from '../src/decode/decoder.js';
import { ParquetDecoder } from '../src/decode/parquet/parquetDecoder.js';
import { pricePaidRows, ukPriceColumns } from '../src/gen/pricePaid.js';
import { DATA_DIR, SEED, type DataFile } from './data.js';

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

const PRICE = ukPriceColumns.indexOf('price');
const DATE = ukPriceColumns.indexOf('date_of_transfer');

/** Spark's schema for the price-paid columns. */
function schema(): SchemaElement[] {
  return [
    { name: 'spark_schema', num_children: ukPriceColumns.length },
    ...ukPriceColumns.map((name, i): SchemaElement =>
      i === PRICE
        ? { name, type: 'INT32', repetition_type: 'OPTIONAL' }
        : i === DATE
          ? { name, type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'OPTIONAL' }
          : { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ),
  ];
}

/** "2023-05-17 00:00" as microseconds since the epoch (the file's times carry no zone, like Spark's). */
const micros = (text: string): bigint => BigInt(Date.parse(`${text.replace(' ', 'T')}:00Z`)) * 1000n;

export async function ensureParquetFile(rows: number, rowGroupRows: number): Promise<DataFile & { rowGroupRows: number }> {
  const file = path.join(DATA_DIR, `pp-${rows}-rg${rowGroupRows}.parquet`);
  const manifestPath = `${file}.json`;
  const manifest = await readFile(manifestPath, 'utf8').then((t) => JSON.parse(t) as { rows: number; seed: number; bytes: number; rowGroupRows: number }, () => undefined);
  const size = await stat(file).then((s) => s.size, () => -1);
  if (manifest && manifest.rows === rows && manifest.seed === SEED && manifest.bytes === size && manifest.rowGroupRows === rowGroupRows) {
    return { path: file, rows, bytes: size, reused: true, generateSeconds: 0, rowGroupRows };
  }
  const t0 = performance.now();
  const partial = `${file}.${process.pid}.partial`;
  const writer = new ParquetWriter({ writer: fileWriter(partial), schema: schema(), codec: 'SNAPPY' });
  // One row group at a time in memory: its columns as arrays.
  let columns = ukPriceColumns.map(() => [] as unknown[]);
  const flush = (): void => {
    if (columns[0]!.length === 0) return;
    writer.write({ columnData: ukPriceColumns.map((name, i) => ({ name, data: columns[i]! })), rowGroupSize: rowGroupRows });
    columns = ukPriceColumns.map(() => []);
  };
  for (const fields of pricePaidRows(rows, SEED)) {
    fields.forEach((value, i) => columns[i]!.push(i === PRICE ? Number(value) : i === DATE ? micros(value) : value));
    if (columns[0]!.length === rowGroupRows) flush();
  }
  flush();
  writer.finish();
  await rename(partial, file);
  const bytes = (await stat(file)).size;
  await writeFile(manifestPath, `${JSON.stringify({ rows, seed: SEED, bytes, rowGroupRows })}\n`);
  return { path: file, rows, bytes, reused: false, generateSeconds: (performance.now() - t0) / 1000, rowGroupRows };
}

/**
 * The Parquet decoder alone on the file (read from disk first): rows per second turned into COPY
 * input, and the process's peak RSS growth while it ran (sampled every 50 ms).
 */
export async function decodeRate(file: DataFile): Promise<{ rowsPerSecond: number; seconds: number; rssGrowthMb: number }> {
  const bytes = await readFile(file.path);
  const decoder = new ParquetDecoder({ columns: [...ukPriceColumns], trackRecords: false });
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const t0 = performance.now();
  const range = await decoder.prepare(async (r) => bytes.subarray(r.start, r.end), bytes.length);
  const out: Buffer[] = [];
  for (let at = range.start; at < range.end; at += 1 << 20) {
    decoder.push(bytes.subarray(at, Math.min(at + (1 << 20), range.end)), out);
    for (const _piece of laterOutput(decoder, { ms: 0 })) out.length = 0;
    out.length = 0;
    // Let the sampler run between pieces.
    await new Promise((r) => setImmediate(r));
  }
  decoder.end(out);
  for (const _piece of laterOutput(decoder, { ms: 0 })) out.length = 0;
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  if (decoder.stats.records !== file.rows) throw new Error(`the decoder gave ${decoder.stats.records} rows of ${file.rows}`);
  return { rowsPerSecond: file.rows / seconds, seconds, rssGrowthMb: (peak - rss0) / 2 ** 20 };
}

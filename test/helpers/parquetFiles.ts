// Parquet files for the decoder tests, written with hyparquet-writer: every type it can produce, in
// several row groups, under each codec (SNAPPY and UNCOMPRESSED built in; GZIP, ZSTD and BROTLI with
// node:zlib's compressors), an INT96 file (the writer has no INT96: a 12-byte FIXED_LEN_BYTE_ARRAY
// column whose footer type is patched to INT96), and a directory as Spark writes one. Also what
// both decoder tests need of the generated COPY input: parsing it back, and COPYing it into PostgreSQL.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { SchemaElement } from 'hyparquet';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';

export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type Codec = 'SNAPPY' | 'UNCOMPRESSED' | 'GZIP' | 'ZSTD' | 'BROTLI';
export const codecs: Codec[] = ['SNAPPY', 'UNCOMPRESSED', 'GZIP', 'ZSTD', 'BROTLI'];
const compressors = {
  GZIP: (b: Uint8Array) => new Uint8Array(zlib.gzipSync(b)),
  ZSTD: (b: Uint8Array) => new Uint8Array(zlib.zstdCompressSync(b)),
  BROTLI: (b: Uint8Array) => new Uint8Array(zlib.brotliCompressSync(b)),
};

/** A column of the types file: its Parquet element, its values, their expected COPY text, a PostgreSQL type. */
interface TypedColumn {
  element: SchemaElement;
  /** Nested fields' elements, depth-first after `element`. */
  children?: SchemaElement[];
  values: unknown[];
  text: Array<string | null>;
  pgType: string;
}

const req = 'OPTIONAL' as const;
const rows = 10;
/** Ten values from a few, cycling, with a null at every 4th row (index 3 and 7). */
function cycle<T>(items: T[]): Array<T | null> {
  return Array.from({ length: rows }, (_, i) => (i % 4 === 3 ? null : items[i % items.length]!));
}

const uuids = ['00112233-4455-6677-8899-aabbccddeeff', 'f47ac10b-58cc-4372-a567-0e02b2c3d479'];

/** The types file's columns. */
export const typedColumns: Record<string, TypedColumn> = {
  b: { element: { name: 'b', type: 'BOOLEAN', repetition_type: req }, values: cycle([true, false]), text: cycle(['true', 'false']), pgType: 'boolean' },
  i32: { element: { name: 'i32', type: 'INT32', repetition_type: req }, values: cycle([1, -2147483648, 2147483647]), text: cycle(['1', '-2147483648', '2147483647']), pgType: 'integer' },
  i64: { element: { name: 'i64', type: 'INT64', repetition_type: req }, values: cycle([1n, -9223372036854775808n, 9223372036854775807n]), text: cycle(['1', '-9223372036854775808', '9223372036854775807']), pgType: 'bigint' },
  f32: { element: { name: 'f32', type: 'FLOAT', repetition_type: req }, values: cycle([0.1, -1.5, Number.POSITIVE_INFINITY]), text: cycle(['0.1', '-1.5', 'Infinity']), pgType: 'real' },
  f64: { element: { name: 'f64', type: 'DOUBLE', repetition_type: req }, values: cycle([0.1, Number.NaN, Number.NEGATIVE_INFINITY, 1e300]), text: cycle(['0.1', 'NaN', '-Infinity', '1e+300']), pgType: 'double precision' },
  dec9: {
    element: { name: 'dec9', type: 'INT32', converted_type: 'DECIMAL', scale: 2, precision: 9, repetition_type: req },
    values: cycle([12345n, -5n, 0n]),
    text: cycle(['123.45', '-0.05', '0.00']),
    pgType: 'numeric(9,2)',
  },
  dec18: {
    element: { name: 'dec18', type: 'INT64', converted_type: 'DECIMAL', scale: 4, precision: 18, repetition_type: req },
    values: cycle([123456789012345678n, -1n]),
    text: cycle(['12345678901234.5678', '-0.0001']),
    pgType: 'numeric(18,4)',
  },
  dec38: {
    element: { name: 'dec38', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, converted_type: 'DECIMAL', scale: 10, precision: 38, repetition_type: req },
    values: cycle([12345678901234567890123456789012345678n, -12345678901234567890123456789012345678n, 1n]),
    text: cycle(['1234567890123456789012345678.9012345678', '-1234567890123456789012345678.9012345678', '0.0000000001']),
    pgType: 'numeric(38,10)',
  },
  s: {
    element: { name: 's', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: req },
    values: cycle(['plain', 'a "quoted", comma', '', 'two\nlines', 'ünïcödé ✓']),
    text: cycle(['plain', 'a "quoted", comma', '', 'two\nlines', 'ünïcödé ✓']),
    pgType: 'text',
  },
  bin: {
    element: { name: 'bin', type: 'BYTE_ARRAY', repetition_type: req },
    values: cycle([new Uint8Array([0, 1, 0xfe, 0xff]), new Uint8Array([])]),
    text: cycle(['\\x0001feff', '\\x']),
    pgType: 'bytea',
  },
  d: {
    element: { name: 'd', type: 'INT32', converted_type: 'DATE', repetition_type: req },
    values: cycle([0, 19675, -719528, -719529]),
    text: cycle(['1970-01-01', '2023-11-14', '0001-01-01 BC', '0002-12-31 BC']),
    pgType: 'date',
  },
  ts_ms: {
    element: { name: 'ts_ms', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: req },
    values: cycle([1700000000123n, -1n]),
    text: cycle(['2023-11-14 22:13:20.123+00', '1969-12-31 23:59:59.999+00']),
    pgType: 'timestamptz',
  },
  ts_us: {
    element: { name: 'ts_us', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' }, repetition_type: req },
    values: cycle([1700000000123456n, 0n]),
    text: cycle(['2023-11-14 22:13:20.123456', '1970-01-01 00:00:00']),
    pgType: 'timestamp',
  },
  ts_ns: {
    element: { name: 'ts_ns', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' }, repetition_type: req },
    values: cycle([1700000000123456000n, 1700000000000000001n]),
    text: cycle(['2023-11-14 22:13:20.123456+00', '2023-11-14 22:13:20.000000001+00']),
    pgType: 'timestamptz',
  },
  u: {
    element: { name: 'u', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' }, repetition_type: req },
    values: cycle(uuids),
    text: cycle(uuids),
    pgType: 'uuid',
  },
  tags: {
    element: { name: 'tags', converted_type: 'LIST', repetition_type: req, num_children: 1 },
    children: [
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: req },
    ],
    values: cycle([['a', 'b'], [], ['x"y']]),
    text: cycle(['["a","b"]', '[]', '["x\\"y"]']),
    pgType: 'jsonb',
  },
  st: {
    element: { name: 'st', repetition_type: req, num_children: 2 },
    children: [
      { name: 'x', type: 'INT32', repetition_type: req },
      { name: 'y', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: req },
    ],
    values: cycle([{ x: 1, y: 'q' }, { x: 2, y: null }]),
    text: cycle(['{"x":1,"y":"q"}', '{"x":2,"y":null}']),
    pgType: 'jsonb',
  },
  m: {
    element: { name: 'm', converted_type: 'MAP', repetition_type: req, num_children: 1 },
    children: [
      { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
      { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'value', type: 'INT32', repetition_type: req },
    ],
    values: cycle([{ k1: 1, k2: 2 }, {}]),
    text: cycle(['{"k1":1,"k2":2}', '{}']),
    pgType: 'jsonb',
  },
};
export const typedRows = rows;

/** A Parquet file of `columns` (default all typedColumns), `rowGroupSize` rows a group. */
export function typesFile(opts: { codec?: Codec; rowGroupSize?: number; columns?: string[] } = {}): Buffer {
  const names = opts.columns ?? Object.keys(typedColumns);
  const schema: SchemaElement[] = [{ name: 'root', num_children: names.length }];
  const columnData: ColumnSource[] = [];
  for (const name of names) {
    const c = typedColumns[name]!;
    schema.push(c.element, ...(c.children ?? []));
    columnData.push({ name, data: c.values as ColumnSource['data'] });
  }
  return writeParquet(columnData, schema, opts.codec ?? 'SNAPPY', opts.rowGroupSize ?? 3);
}

export function writeParquet(columnData: ColumnSource[], schema: SchemaElement[] | undefined, codec: Codec, rowGroupSize: number, statistics = true): Buffer {
  // hyparquet-writer carries its own hyparquet's types: the same SchemaElement shape.
  type WriterSchema = Parameters<typeof parquetWriteBuffer>[0]['schema'];
  const ab = parquetWriteBuffer({ columnData, schema: schema as WriterSchema, codec, compressors, rowGroupSize, statistics });
  return Buffer.from(ab);
}

/** A price-paid-like file of `n` rows (id, price, date, postcode, type), for sizes and sums. */
export function salesFile(n: number, rowGroupSize: number, codec: Codec = 'SNAPPY'): Buffer {
  const ids = Array.from({ length: n }, (_, i) => BigInt(i + 1));
  const prices = Array.from({ length: n }, (_, i) => 100_000 + ((i * 7919) % 900_000));
  const days = Array.from({ length: n }, (_, i) => 10_000 + (i % 9000));
  const postcodes = Array.from({ length: n }, (_, i) => `AB${i % 97} ${i % 10}XY`);
  const types = Array.from({ length: n }, (_, i) => 'DSTFO'[i % 5]!);
  return writeParquet(
    [
      { name: 'id', data: ids },
      { name: 'price', data: prices },
      { name: 'sold', data: days },
      { name: 'postcode', data: postcodes },
      { name: 'type', data: types },
    ],
    [
      { name: 'root', num_children: 5 },
      { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'price', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'sold', type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
      { name: 'postcode', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'type', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ],
    codec,
    rowGroupSize,
  );
}

/** INT96 as Spark writes it: nanoseconds of the day (8 bytes LE), then the Julian day (4 bytes LE). */
export function int96(julianDay: number, nanosOfDay: bigint): Uint8Array {
  const b = Buffer.alloc(12);
  b.writeBigInt64LE(nanosOfDay, 0);
  b.writeInt32LE(julianDay, 8);
  return new Uint8Array(b);
}

/**
 * A file with an `id` INT32 column and an INT96 column `ts`: written as FIXED_LEN_BYTE_ARRAY(12) (same
 * bytes), then the type in the footer's schema element and column metadata patched to INT96 (compact
 * thrift: i32 field 1 = zigzag 7 becomes zigzag 3, one byte either way).
 */
export function int96File(values: Array<Uint8Array | null>): Buffer {
  const file = writeParquet(
    [
      { name: 'id', data: values.map((_, i) => i + 1) },
      { name: 'ts', data: values },
    ],
    [
      { name: 'root', num_children: 2 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'ts', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 12, repetition_type: 'OPTIONAL' },
    ],
    'SNAPPY',
    2,
    false,
  );
  const footerLength = file.readUInt32LE(file.length - 8);
  const footer = file.subarray(file.length - 8 - footerLength, file.length - 8);
  let patched = 0;
  for (let i = 0; i + 2 < footer.length; i++) {
    // field 1 (i32) = FIXED_LEN_BYTE_ARRAY, then type_length 12 (schema) or the encodings list (column metadata)
    if (footer[i] === 0x15 && footer[i + 1] === 0x0e && ((footer[i + 2] === 0x15 && footer[i + 3] === 0x18) || footer[i + 2] === 0x19)) {
      footer[i + 1] = 0x06;
      patched++;
    }
  }
  if (patched < 3) throw new Error(`INT96 patch found ${patched} places, expected the schema and each row group's chunk`);
  return file;
}

/** Writes `parts` into `dir` as Spark does: part files, their .crc files, and _SUCCESS. Returns the part paths. */
export async function writeSparkDir(dir: string, parts: Buffer[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const job = randomUUID();
  const paths: string[] = [];
  for (const [i, part] of parts.entries()) {
    const name = `part-${String(i).padStart(5, '0')}-${job}-c000.snappy.parquet`;
    await writeFile(join(dir, name), part);
    // Hadoop's checksum file: "crc\0", bytes per checksum, then CRC32s; its content does not matter here.
    await writeFile(join(dir, `.${name}.crc`), Buffer.concat([Buffer.from('crc\0'), Buffer.alloc(8)]));
    paths.push(join(dir, name));
  }
  await writeFile(join(dir, '_SUCCESS'), '');
  await writeFile(join(dir, '._SUCCESS.crc'), Buffer.from('crc\0\0\0\x02\0', 'latin1'));
  return paths;
}

/** Parses the generated COPY dialect back: quoted fields are strings ("" inside a quote), empty unquoted is null. */
export function parseGenerated(text: string): Array<Array<string | null>> {
  const records: Array<Array<string | null>> = [];
  let fields: Array<string | null> = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quote');
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fields.push(value);
    } else {
      fields.push(null);
    }
    const c = text[i];
    if (c === ',') {
      i++;
    } else if (c === '\n') {
      records.push(fields);
      fields = [];
      i++;
    } else {
      throw new Error(`unexpected ${JSON.stringify(c)} at ${i}`);
    }
  }
  if (fields.length > 0) throw new Error('last record without its line end');
  return records;
}

/** COPYs generated input into `table` (columns in order) on `client`; returns the rows loaded. */
export async function copyGenerated(client: pg.PoolClient | pg.Client, table: string, columns: string[], input: Buffer): Promise<number> {
  const list = columns.map((c) => `"${c}"`).join(', ');
  const copy = client.query(copyStreams.from(`COPY ${table} (${list}) FROM STDIN WITH (FORMAT csv, DELIMITER ',', QUOTE '"', ESCAPE '"', NULL '', ENCODING 'UTF8')`));
  await pipeline(Readable.from([input]), copy);
  return copy.rowCount ?? 0;
}

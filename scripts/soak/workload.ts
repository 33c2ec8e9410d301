// The soak's work: files whose truth is known (rows, key set, sum, bad lines), uploaded once, and a mixed
// stream of jobs over them: single files and prefixes; CSV, gzip, JSON Lines and Parquet; atomicity file,
// chunk (two streams) and job; append, upsert, replace and merge (change files); files with rejects under
// the budget and over it; resubmissions with the same Idempotency-Key and without; and cancels.
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { changeFile, type Change } from './changeFiles.js';
import type { Random } from './random.js';

export const BUCKET = 'soak';
/** maxErrors of every job: a file with more bad lines fails as its atomicity promises. */
export const MAX_ERRORS = 4;
export const COLUMNS = ['id', 'file', 'line', 'amount'];

type Ext = 'csv' | 'csv.gz' | 'jsonl' | 'parquet';

export interface TableClass {
  table: string;
  spec: Record<string, unknown>;
  /** How each of its files is written (picked at random, repeats weigh more). */
  formats: Ext[];
  /** The table's definition after its name. */
  definition: string;
}

const plain = '(id uuid, file text NOT NULL, line int NOT NULL, amount bigint NOT NULL)';
const rowFormats: Ext[] = ['csv', 'csv', 'csv.gz', 'jsonl', 'parquet'];

/** One target table per way of loading; the audit holds every one to its files' truth. */
export const tableClasses: TableClass[] = [
  { table: 'append_file', spec: { atomicity: 'file' }, formats: rowFormats, definition: plain },
  { table: 'append_chunk', spec: { atomicity: 'chunk', streams: 2, chunkBytes: 65536 }, formats: rowFormats, definition: plain },
  { table: 'append_job', spec: { atomicity: 'job' }, formats: rowFormats, definition: plain },
  { table: 'upsert', spec: { mode: 'upsert', key: ['id'] }, formats: rowFormats, definition: '(id uuid PRIMARY KEY, file text NOT NULL, line int NOT NULL, amount bigint NOT NULL)' },
  { table: 'replace', spec: { mode: 'replace' }, formats: rowFormats, definition: plain },
  {
    table: 'merge',
    spec: { mode: 'merge', key: ['id'], operation: { column: 'op', delete: ['D'], upsert: ['A', 'C'] }, target: { columns: [...COLUMNS, 'op'] } },
    formats: ['csv', 'csv', 'csv.gz'],
    definition: '(id uuid PRIMARY KEY, file text NOT NULL, line int NOT NULL, amount bigint NOT NULL, op text NOT NULL)',
  },
];

export interface SoakFile {
  key: string;
  table: string;
  rows: number;
  /** File lines (from 1; a Parquet file's rows + 1) whose amount is not a number: rejected by PostgreSQL. */
  bad: number[];
  goodRows: number;
  goodSum: bigint;
  /** Mode merge: the records that apply, in file order. */
  changes?: Change[];
}

/** A unit of work a job loads: one file, or a prefix holding several. */
export interface Batch {
  table: string;
  url: string;
  files: SoakFile[];
}

export function makeBatches(random: Random, schema: string, count: number): { batches: Batch[]; bodies: Map<string, Buffer> } {
  const batches: Batch[] = [];
  const bodies = new Map<string, Buffer>();
  for (let b = 0; b < count; b++) {
    const cls = tableClasses[b % tableClasses.length]!;
    const prefix = `${schema}/${cls.table}/b${b}/`;
    const n = random.chance(0.4) ? random.int(2, 4) : 1;
    const files: SoakFile[] = [];
    const live: string[] = []; // merge: the batch's ids as its files so far leave them
    for (let f = 0; f < n; f++) {
      const ext = random.pick(cls.formats);
      const key = `${prefix}f${f}.${ext}`;
      const rows = random.int(500, cls.table === 'append_chunk' ? 12_000 : 4_000);
      const badCount = random.chance(0.75) ? 0 : random.chance(0.7) ? random.int(1, MAX_ERRORS) : MAX_ERRORS + random.int(1, 3);
      const bad = new Set<number>();
      while (bad.size < Math.min(badCount, rows)) bad.add(random.int(1, rows));
      const file: SoakFile = { key, table: cls.table, rows, bad: [...bad].sort((a, c) => a - c), goodRows: rows - bad.size, goodSum: 0n };
      if (cls.table === 'merge') {
        const { lines, changes } = changeFile(random, key, rows, bad, live, f === 0);
        bodies.set(key, encode(Buffer.from(`${lines.join('\n')}\n`), ext));
        Object.assign(file, { rows: lines.length, goodRows: changes.length, changes });
      } else {
        const { body, goodSum } = rowFile(random, key, rows, bad, ext);
        bodies.set(key, body);
        file.goodSum = goodSum;
      }
      files.push(file);
    }
    batches.push({ table: cls.table, url: n === 1 ? `s3://${BUCKET}/${files[0]!.key}` : `s3://${BUCKET}/${prefix}`, files });
  }
  return { batches, bodies };
}

function encode(text: Buffer, ext: Ext): Buffer {
  return ext === 'csv.gz' ? gzipSync(text) : text;
}

function rowFile(random: Random, key: string, rows: number, bad: Set<number>, ext: Ext): { body: Buffer; goodSum: bigint } {
  const ids: string[] = [];
  const amounts: string[] = [];
  let goodSum = 0n;
  for (let line = 1; line <= rows; line++) {
    ids.push(random.uuid());
    const amount = random.int(1, 1_000_000);
    amounts.push(bad.has(line) ? 'not-a-number' : String(amount));
    if (!bad.has(line)) goodSum += BigInt(amount);
  }
  if (ext === 'parquet') {
    // The amount is a string column, so a bad one reaches PostgreSQL as a Parquet file's would.
    const lines = ids.map((_, i) => i + 1);
    const body = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ids, type: 'STRING', nullable: false },
        { name: 'file', data: ids.map(() => key), type: 'STRING', nullable: false },
        { name: 'line', data: lines, type: 'INT32', nullable: false },
        { name: 'amount', data: amounts, type: 'STRING', nullable: false },
      ],
      rowGroupSize: 1000,
    });
    return { body: Buffer.from(body), goodSum };
  }
  const lines = ids.map((id, i) => (ext === 'jsonl' ? JSON.stringify({ id, file: key, line: i + 1, amount: amounts[i] }) : `${id},${key},${i + 1},${amounts[i]}`));
  return { body: encode(Buffer.from(`${lines.join('\n')}\n`), ext), goodSum };
}

export async function upload(s3: S3Client, bodies: Map<string, Buffer>): Promise<void> {
  for (const [key, body] of bodies) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

/** The job spec that loads a batch into its table. */
export function specFor(batch: Batch, schema: string): Record<string, unknown> {
  const { target, ...spec } = tableClasses.find((c) => c.table === batch.table)!.spec as { target?: Record<string, unknown> };
  return {
    source: { url: batch.url },
    format: { header: false },
    target: { table: `${schema}.${batch.table}`, columns: COLUMNS, ...target },
    maxErrors: MAX_ERRORS,
    ...spec,
  };
}

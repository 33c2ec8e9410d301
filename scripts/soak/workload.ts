// The soak's work: files whose truth is known (rows, key set, sum, bad lines), uploaded once, and a mixed
// stream of jobs over them: single files and prefixes, CSV, gzip and JSON Lines, atomicity file, chunk
// and job, append and upsert, files with rejects under the budget and over it, resubmissions with the
// same Idempotency-Key and without, and cancels.
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Random } from './random.js';

export const BUCKET = 'soak';
/** maxErrors of every job: a file with more bad lines fails as its atomicity promises. */
export const MAX_ERRORS = 4;
export const COLUMNS = ['id', 'file', 'line', 'amount'];

export interface TableClass {
  table: string;
  spec: Record<string, unknown>;
}

/** One target table per way of loading; the audit holds every one to its files' truth. */
export const tableClasses: TableClass[] = [
  { table: 'append_file', spec: { atomicity: 'file' } },
  { table: 'append_chunk', spec: { atomicity: 'chunk', streams: 2, chunkBytes: 65536 } },
  { table: 'append_job', spec: { atomicity: 'job' } },
  { table: 'upsert', spec: { mode: 'upsert', key: ['id'] } },
];

export interface SoakFile {
  key: string;
  table: string;
  rows: number;
  /** File lines (from 1) whose amount is not a number: rejected by PostgreSQL. */
  bad: number[];
  goodRows: number;
  goodSum: bigint;
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
    for (let f = 0; f < n; f++) {
      const ext = random.pick(['csv', 'csv', 'csv.gz', 'jsonl']);
      const key = `${prefix}f${f}.${ext}`;
      const rows = random.int(500, cls.table === 'append_chunk' ? 12_000 : 4_000);
      const badCount = random.chance(0.75) ? 0 : random.chance(0.7) ? random.int(1, MAX_ERRORS) : MAX_ERRORS + random.int(1, 3);
      const bad = new Set<number>();
      while (bad.size < Math.min(badCount, rows)) bad.add(random.int(1, rows));
      const { body, goodSum } = fileBody(random, key, rows, bad, ext);
      bodies.set(key, body);
      files.push({ key, table: cls.table, rows, bad: [...bad].sort((a, c) => a - c), goodRows: rows - bad.size, goodSum });
    }
    batches.push({ table: cls.table, url: n === 1 ? `s3://${BUCKET}/${files[0]!.key}` : `s3://${BUCKET}/${prefix}`, files });
  }
  return { batches, bodies };
}

function fileBody(random: Random, key: string, rows: number, bad: Set<number>, ext: string): { body: Buffer; goodSum: bigint } {
  const lines: string[] = [];
  let goodSum = 0n;
  for (let line = 1; line <= rows; line++) {
    const id = random.uuid();
    const amount = random.int(1, 1_000_000);
    const value = bad.has(line) ? 'not-a-number' : String(amount);
    if (!bad.has(line)) goodSum += BigInt(amount);
    lines.push(ext === 'jsonl' ? JSON.stringify({ id, file: key, line, amount: value }) : `${id},${key},${line},${value}`);
  }
  const text = Buffer.from(`${lines.join('\n')}\n`);
  return { body: ext === 'csv.gz' ? gzipSync(text) : text, goodSum };
}

export async function upload(s3: S3Client, bodies: Map<string, Buffer>): Promise<void> {
  for (const [key, body] of bodies) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

/** The job spec that loads a batch into its table. */
export function specFor(batch: Batch, schema: string): Record<string, unknown> {
  const cls = tableClasses.find((c) => c.table === batch.table)!;
  return {
    source: { url: batch.url },
    format: { header: false },
    target: { table: `${schema}.${batch.table}`, columns: COLUMNS },
    maxErrors: MAX_ERRORS,
    ...cls.spec,
  };
}

// The benchmark's input: a deterministic price-paid-shaped CSV file on local disk, where the server-side
// COPY (run as the postgres OS user) can read it too. Generated once per row count and reused while the
// file still has the size recorded when it was written.
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { pricePaidStream } from '../src/gen/pricePaid.js';

/** Where the files live: world-readable, so the PostgreSQL server process can open them. */
export const DATA_DIR = '/tmp/citus-ingest-bench';
/** The generator seed; changing it changes every byte (and invalidates the reuse check). */
export const SEED = 2023;

export interface DataFile {
  path: string;
  rows: number;
  bytes: number;
  /** True when an earlier run's file was reused. */
  reused: boolean;
  generateSeconds: number;
}

interface Manifest {
  rows: number;
  seed: number;
  bytes: number;
}

export async function ensureDataFile(rows: number): Promise<DataFile> {
  await mkdir(DATA_DIR, { recursive: true });
  await chmod(DATA_DIR, 0o755);
  const file = path.join(DATA_DIR, `pp-${rows}.csv`);
  const manifestPath = `${file}.json`;
  const manifest = await readFile(manifestPath, 'utf8').then((t) => JSON.parse(t) as Manifest, () => undefined);
  const size = await stat(file).then((s) => s.size, () => -1);
  if (manifest && manifest.rows === rows && manifest.seed === SEED && manifest.bytes === size) {
    await chmod(file, 0o644);
    return { path: file, rows, bytes: size, reused: true, generateSeconds: 0 };
  }
  const t0 = performance.now();
  // Write beside it and rename, so an interrupted run never leaves a short file that looks complete.
  const partial = `${file}.${process.pid}.partial`;
  await pipeline(pricePaidStream(rows, SEED), createWriteStream(partial, { mode: 0o644 }));
  await chmod(partial, 0o644);
  await rename(partial, file);
  const bytes = (await stat(file)).size;
  await writeFile(manifestPath, `${JSON.stringify({ rows, seed: SEED, bytes } satisfies Manifest)}\n`);
  return { path: file, rows, bytes, reused: false, generateSeconds: (performance.now() - t0) / 1000 };
}

/**
 * The data file with every `every`-th record refused by the database: its key is the record before's
 * (a duplicate key, which PostgreSQL refuses at that line and a Citus worker refuses without one). Every
 * generated record is one line, so the line number is the record number. Derived from the clean file.
 */
export async function ensureBadDataFile(clean: DataFile, every: number): Promise<DataFile & { badRows: number }> {
  const file = path.join(DATA_DIR, `pp-${clean.rows}-bad-every-${every}.csv`);
  const badRows = Math.floor(clean.rows / every);
  const expected = await stat(`${file}.json`).then(() => readFile(`${file}.json`, 'utf8'), () => '');
  const size = await stat(file).then((s) => s.size, () => -1);
  if (expected && (JSON.parse(expected) as Manifest).bytes === size && size === clean.bytes) {
    return { path: file, rows: clean.rows, bytes: size, reused: true, generateSeconds: 0, badRows };
  }
  const t0 = performance.now();
  const partial = `${file}.${process.pid}.partial`;
  const out = createWriteStream(partial, { mode: 0o644 });
  let n = 0;
  let previousKey = '';
  for await (const line of createInterface({ input: createReadStream(clean.path), crlfDelay: Infinity })) {
    n++;
    const comma = line.indexOf(',');
    const key = line.slice(0, comma);
    const text = n % every === 0 ? previousKey + line.slice(comma) : line;
    previousKey = key;
    if (!out.write(`${text}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  await rename(partial, file);
  const bytes = (await stat(file)).size;
  await writeFile(`${file}.json`, `${JSON.stringify({ rows: clean.rows, seed: SEED, bytes } satisfies Manifest)}\n`);
  return { path: file, rows: clean.rows, bytes, reused: false, generateSeconds: (performance.now() - t0) / 1000, badRows };
}

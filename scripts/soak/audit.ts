// The soak's audit: every target against its files' own truth. For each file of an append or upsert
// table: its rows are in its table once (no key twice) or not at all; a file-ledger row means every good
// row is there with the file's sum and the ledger's count; rows without a file-ledger row are only a
// chunked file's committed chunks, as its chunk ledger says; a file of a job that succeeded has its ledger
// row. The replace and merge tables have truths of their own (auditModes.ts). Every file's rejects are at
// its bad lines, and no job is left queued or running.
import type pg from 'pg';
import { auditMerge, auditReplace } from './auditModes.js';
import { MAX_ERRORS, type Batch } from './workload.js';

export interface JobOutcome {
  id: string;
  status: string;
  code: string | null;
  finishedAt: Date | null;
  batch: Batch;
}

export interface AuditResult {
  rows: number;
  lost: string[];
  doubled: string[];
  stuck: string[];
  mismatches: string[];
  succeeded: number;
  failedAsExpected: number;
  failedOther: Map<string, number>;
  cancelled: number;
}

/** The tables whose truth is per file; the others have their own (auditModes.ts). */
const ownTruth = new Set(['replace', 'merge']);

const count = (rows: Array<Record<string, unknown>>, key: string, value: string): Map<string, bigint> =>
  new Map(rows.map((r) => [String(r[key]), BigInt(String(r[value]))]));

export async function audit(db: pg.Pool, schema: string, batches: Batch[], jobs: JobOutcome[]): Promise<AuditResult> {
  const r: AuditResult = { rows: 0, lost: [], doubled: [], stuck: [], mismatches: [], succeeded: 0, failedAsExpected: 0, failedOther: new Map(), cancelled: 0 };
  for (const job of jobs) {
    if (job.status === 'queued' || job.status === 'running') r.stuck.push(`job ${job.id} (${job.batch.url}) is still ${job.status}`);
    else if (job.status === 'succeeded') r.succeeded++;
    else if (job.status === 'cancelled') r.cancelled++;
    else if (job.code === 'ERROR_BUDGET_EXCEEDED' && job.batch.files.some((f) => f.bad.length > MAX_ERRORS)) r.failedAsExpected++;
    else r.failedOther.set(job.code ?? 'unknown', (r.failedOther.get(job.code ?? 'unknown') ?? 0) + 1);
  }
  const like = `${schema}/%`;
  const ledger = count((await db.query(`SELECT key, rows_loaded FROM ingest.file_ledger WHERE container = 'soak' AND key LIKE $1`, [like])).rows, 'key', 'rows_loaded');
  const chunks = count((await db.query(`SELECT key, sum(rows_loaded) AS rows FROM ingest.chunk_ledger WHERE container = 'soak' AND key LIKE $1 GROUP BY key`, [like])).rows, 'key', 'rows');
  const rejectLines = new Map<string, Set<number>>();
  // A Parquet file has no lines: its rejects name their row (absoluteRow, from 0), its line in the soak's truth less one.
  const placed = `coalesce(line, (position->>'absoluteRow')::bigint + 1)`;
  for (const row of (await db.query<{ key: string; line: string }>(`SELECT DISTINCT key, ${placed} AS line FROM ingest.rejects WHERE key LIKE $1 AND ${placed} IS NOT NULL`, [like])).rows) {
    rejectLines.set(row.key, (rejectLines.get(row.key) ?? new Set()).add(Number(row.line)));
  }
  const succeededFiles = new Set(jobs.filter((j) => j.status === 'succeeded').flatMap((j) => j.batch.files.map((f) => f.key)));

  for (const file of batches.flatMap((b) => b.files)) {
    for (const line of rejectLines.get(file.key) ?? []) {
      if (!file.bad.includes(line)) r.mismatches.push(`${file.table}: ${file.key}: a reject at line ${line}, which is a good line`);
    }
  }
  for (const table of new Set(batches.map((b) => b.table).filter((t) => !ownTruth.has(t)))) {
    const { rows } = await db.query<{ file: string; n: string; d: string; s: string }>(
      `SELECT file, count(*) AS n, count(DISTINCT id) AS d, coalesce(sum(amount), 0) AS s FROM ${schema}.${table} GROUP BY file`,
    );
    const stats = new Map(rows.map((x) => [x.file, { n: BigInt(x.n), d: BigInt(x.d), s: BigInt(x.s) }]));
    for (const file of batches.filter((b) => b.table === table).flatMap((b) => b.files)) {
      const got = stats.get(file.key) ?? { n: 0n, d: 0n, s: 0n };
      r.rows += Number(got.n);
      const where = `${table}: ${file.key}`;
      if (got.n > got.d) r.doubled.push(`${where}: ${got.n} rows for ${got.d} keys`);
      const loaded = ledger.get(file.key);
      if (loaded !== undefined) {
        if (got.d !== BigInt(file.goodRows) || got.s !== file.goodSum) r.lost.push(`${where}: ledger says loaded, table has ${got.d} of ${file.goodRows} rows, sum ${got.s} of ${file.goodSum}`);
        if (loaded !== got.n) r.mismatches.push(`${where}: ledger rows_loaded ${loaded}, table ${got.n}`);
        const lines = rejectLines.get(file.key) ?? new Set();
        if (file.bad.some((line) => !lines.has(line))) r.mismatches.push(`${where}: rejects at lines ${[...lines].join(',')}, bad lines ${file.bad.join(',')}`);
      } else {
        const committedChunks = chunks.get(file.key) ?? 0n;
        if (got.n !== committedChunks) r.mismatches.push(`${where}: ${got.n} rows without a file-ledger row (chunk ledger: ${committedChunks})`);
        if (succeededFiles.has(file.key)) r.lost.push(`${where}: its job succeeded but the file has no ledger row`);
      }
    }
  }
  if (batches.some((b) => b.table === 'replace')) await auditReplace(db, schema, batches, jobs, r);
  if (batches.some((b) => b.table === 'merge')) await auditMerge(db, schema, batches, jobs, r);
  return r;
}

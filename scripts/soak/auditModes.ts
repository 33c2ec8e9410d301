// The audit of the tables whose truth is not per file. replace: the table holds exactly the files of the
// last replace job that succeeded, each once, and the ledger rows of the table now in place name those
// files and that job. merge: each batch's rows are what its merged change files leave when applied in
// name order (a file is merged when the ledger holds it; the merged files are the first ones of the
// batch), and every file of a merge job that succeeded is merged.
import type pg from 'pg';
import type { AuditResult, JobOutcome } from './audit.js';
import { applyChanges, type MergedRow } from './changeFiles.js';
import type { Batch } from './workload.js';

/** Problems listed per batch at most, so one broken batch does not flood the report. */
const SHOWN = 3;

async function currentLedger(db: pg.Pool, schema: string, table: string): Promise<Map<string, { rows: bigint; jobId: string }>> {
  const { rows } = await db.query<{ key: string; rows_loaded: string; job_id: string }>(
    `SELECT key, rows_loaded, job_id FROM ingest.file_ledger
      WHERE container = 'soak' AND key LIKE $1 AND (target_oid IS NULL OR target_oid = to_regclass($2)::oid)`,
    [`${schema}/${table}/%`, `${schema}.${table}`],
  );
  return new Map(rows.map((x) => [x.key, { rows: BigInt(x.rows_loaded), jobId: x.job_id }]));
}

export async function auditReplace(db: pg.Pool, schema: string, batches: Batch[], jobs: JobOutcome[], r: AuditResult): Promise<void> {
  const ledger = await currentLedger(db, schema, 'replace');
  const { rows } = await db.query<{ file: string; n: string; d: string; s: string }>(
    `SELECT file, count(*) AS n, count(DISTINCT id) AS d, coalesce(sum(amount), 0) AS s FROM ${schema}.replace GROUP BY file`,
  );
  const stats = new Map(rows.map((x) => [x.file, { n: BigInt(x.n), d: BigInt(x.d), s: BigInt(x.s) }]));
  r.rows += rows.reduce((a, x) => a + Number(x.n), 0);
  const succeeded = jobs.filter((j) => j.batch.table === 'replace' && j.status === 'succeeded').sort((a, b) => Number(a.finishedAt) - Number(b.finishedAt));
  const last = succeeded.at(-1);
  const expected = new Map((last?.batch.files ?? []).map((f) => [f.key, f]));
  const holders = new Set([...ledger.values()].map((l) => l.jobId));
  if (last && (holders.size !== 1 || !holders.has(last.id))) {
    r.mismatches.push(`replace: the ledger of the table in place names job(s) ${[...holders].join(', ') || 'none'}; the last replace job to succeed is ${last.id} (${last.batch.url})`);
  }
  for (const [file, got] of stats) {
    if (!expected.has(file)) r.mismatches.push(`replace: ${got.n} rows of ${file}, which the last successful replace (${last?.id ?? 'none'}) did not load`);
  }
  for (const file of expected.values()) {
    const got = stats.get(file.key) ?? { n: 0n, d: 0n, s: 0n };
    const where = `replace: ${file.key} (job ${last!.id})`;
    if (got.n > got.d) r.doubled.push(`${where}: ${got.n} rows for ${got.d} keys`);
    if (got.d !== BigInt(file.goodRows) || got.s !== file.goodSum) r.lost.push(`${where}: table has ${got.d} of ${file.goodRows} rows, sum ${got.s} of ${file.goodSum}`);
    const loaded = ledger.get(file.key);
    if (loaded === undefined) r.lost.push(`${where}: the last successful replace's file has no ledger row for the table in place`);
    else if (loaded.rows !== got.n) r.mismatches.push(`${where}: ledger rows_loaded ${loaded.rows}, table ${got.n}`);
  }
}

/** The batch a merged row belongs to: its file's prefix (schema/merge/bN). */
const batchOf = (file: string): string => file.split('/').slice(0, 3).join('/');

export async function auditMerge(db: pg.Pool, schema: string, batches: Batch[], jobs: JobOutcome[], r: AuditResult): Promise<void> {
  const ledger = await currentLedger(db, schema, 'merge');
  const { rows } = await db.query<{ id: string; file: string; line: number; amount: string }>(`SELECT id, file, line, amount FROM ${schema}.merge`);
  r.rows += rows.length;
  const actual = new Map<string, Map<string, MergedRow>>();
  for (const row of rows) {
    const batch = batchOf(row.file);
    if (!actual.has(batch)) actual.set(batch, new Map());
    actual.get(batch)!.set(row.id, { file: row.file, line: row.line, amount: BigInt(row.amount) });
  }
  const succeededFiles = new Set(jobs.filter((j) => j.status === 'succeeded').flatMap((j) => j.batch.files.map((f) => f.key)));
  for (const batch of batches.filter((b) => b.table === 'merge')) {
    const prefix = batchOf(batch.files[0]!.key);
    const merged = batch.files.map((f) => ledger.has(f.key));
    const firstUnmerged = merged.indexOf(false);
    if (firstUnmerged >= 0 && merged.slice(firstUnmerged).some(Boolean)) {
      r.mismatches.push(`merge: ${prefix}: merged files ${batch.files.filter((_, i) => merged[i]).map((f) => f.key).join(', ')} are not the first of the batch`);
    }
    for (const file of batch.files) {
      if (succeededFiles.has(file.key) && !ledger.has(file.key)) r.lost.push(`merge: ${file.key}: its job succeeded but the file has no ledger row`);
    }
    const truth = new Map<string, MergedRow>();
    for (const file of batch.files.filter((f) => ledger.has(f.key))) applyChanges(truth, file.key, file.changes ?? []);
    const got = actual.get(prefix) ?? new Map<string, MergedRow>();
    actual.delete(prefix);
    const missing = [...truth.keys()].filter((id) => !got.has(id));
    const extra = [...got.keys()].filter((id) => !truth.has(id));
    const differ = [...truth].filter(([id, want]) => {
      const row = got.get(id);
      return row !== undefined && (row.amount !== want.amount || row.file !== want.file || row.line !== want.line);
    });
    if (missing.length > 0) r.lost.push(`merge: ${prefix}: ${missing.length} rows its merged files leave are missing (${missing.slice(0, SHOWN).join(', ')})`);
    if (extra.length > 0) r.mismatches.push(`merge: ${prefix}: ${extra.length} rows its merged files do not leave (${extra.slice(0, SHOWN).join(', ')})`);
    if (differ.length > 0) r.mismatches.push(`merge: ${prefix}: ${differ.length} rows differ from the change files (${differ.slice(0, SHOWN).map(([id]) => id).join(', ')})`);
  }
  for (const [prefix, left] of actual) r.mismatches.push(`merge: ${left.size} rows of ${prefix}, which is no batch of this soak`);
}

// What the command line prints once a job is final, and the exit code that goes with it: the timing
// table of every run, the Citus shard layout of the last run, a one-line summary, and the error of a
// failed or cancelled job (code, message, and where in the file for a rejected record).
import { timingTable } from '../report/timingTable.js';
import type { JobWithRuns } from './client.js';
import { ExitCode } from './exit.js';
import type { MergeCounts } from '../sql/jobRows.js';
import { elapsedMs, fmtDuration, fmtInt, mergeTable, rowsOf, shardLayoutTable } from './format.js';
import { entryNodesTable } from './entryNodes.js';

export interface Outcome {
  /** The report, for stdout. */
  out: string;
  /** The error of a job that did not succeed, for stderr. */
  err: string;
  exitCode: number;
}

interface SkippedFile {
  url?: string;
  jobId?: string;
  runId?: string;
  loadedAt?: string;
  rowsLoaded?: number;
}

/** What the details add to the message: PostgreSQL's DETAIL and the SQLSTATE (line and column are in the message). */
function extra(message: string, details: Record<string, unknown> | undefined): string {
  if (!details) return '';
  const parts: string[] = [];
  if (typeof details.sqlstate === 'string' && !message.includes(details.sqlstate)) parts.push(`SQLSTATE ${details.sqlstate}`);
  if (typeof details.detail === 'string') parts.push(details.detail);
  return parts.length ? `\n  ${parts.join('; ')}` : '';
}

export function outcome(job: JobWithRuns): Outcome {
  const out: string[] = [];
  for (const run of job.runs) out.push(timingTable(run), '');
  const lastRun = job.runs[job.runs.length - 1];
  if (lastRun?.shardLayout) out.push(shardLayoutTable(lastRun.shardLayout), '');
  const entered = lastRun ? entryNodesTable(lastRun) : undefined;
  if (entered) out.push(entered, '');
  const merge = job.result?.merge as MergeCounts | undefined;
  if (merge) {
    const files = (lastRun?.files ?? []).flatMap((f) => (f.merge ? [{ key: f.key, merge: f.merge }] : []));
    out.push(mergeTable(files, merge), '');
  }

  const took = fmtDuration(elapsedMs(job.createdAt, job.finishedAt));
  const rows = fmtInt(rowsOf(job));
  const attempts = job.runs.length > 1 ? ` after ${job.runs.length} runs` : '';
  const op = job.result?.operation;
  if (op === 'rebalance' || op === 'analyze') out.push(`job ${job.id} ${job.status}: ${tableOperationLine(job.result!)} in ${took}${attempts}`);
  else out.push(`job ${job.id} ${job.status}: ${rows} rows loaded into ${job.target} from ${job.sourceUrl} in ${took}${attempts}`);

  const skipped = (job.result?.skipped as SkippedFile[] | undefined) ?? [];
  for (const s of skipped) {
    out.push(
      `nothing loaded: ${s.url ?? job.sourceUrl} is already in the file ledger for ${job.target} ` +
        `(${fmtInt(s.rowsLoaded)} rows loaded by job ${s.jobId ?? '?'} at ${s.loadedAt ?? '?'})`,
    );
  }

  let err = '';
  if (job.status !== 'succeeded') {
    const e = job.error;
    err = e ? `error ${e.code}: ${e.message}${extra(e.message, e.details)}` : `error: the job ended ${job.status} without an error record`;
  }
  return { out: out.join('\n'), err, exitCode: job.status === 'succeeded' ? ExitCode.ok : ExitCode.failed };
}

/** What a table operation did: the table analyzed, or the shard moves and bytes of a rebalance with the skew before and after. */
function tableOperationLine(r: Record<string, unknown>): string {
  if (r.operation === 'analyze') return `analyzed ${String(r.table)}`;
  const skew = (l: unknown) => {
    const v = (l as { skew?: number | null } | null)?.skew;
    return typeof v === 'number' ? v.toFixed(3) : '-';
  };
  return `rebalanced ${String(r.table)}: ${fmtInt(r.movesDone as number)} of ${fmtInt(r.movesPlanned as number)} shard moves, ` +
    `${fmtInt(r.bytesMoved as number)} bytes moved, skew ${skew(r.layoutBefore)} -> ${skew(r.layoutAfter)}`;
}

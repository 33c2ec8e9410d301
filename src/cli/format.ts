// Plain-text rendering for the terminal: numbers, sizes and durations, and the tables the commands
// print (jobs, rejects, shard layout). The per-run timing table is src/report/timingTable.ts.
import { rejectPlace } from '../sink/reject.js';
import { scaleBytes } from '../report/units.js';
import type { Job, MergeCounts, Run } from '../sql/jobRows.js';
import type { RejectRow } from './client.js';

export const fmtInt = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : Math.round(n).toLocaleString('en-US'));

/** 1,234,567 bytes → "1.23 MB" (decimal units, as MB/s in the timing table). */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '?';
  if (n < 1000) return `${n} B`;
  const { value, unit } = scaleBytes(n);
  return `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${unit}`;
}

/** 850 → "850 ms", 12_300 → "12.3 s", 754_000 → "12m34s". */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

/** An ISO time as "2024-05-01 12:34:56Z". */
export const fmtTime = (iso: string | null): string => (iso ? `${iso.slice(0, 19).replace('T', ' ')}Z` : '-');

/** Milliseconds from `from` to `to` (or now, for a job still going). */
export function elapsedMs(from: string | null, to: string | null): number | null {
  if (!from) return null;
  return (to ? Date.parse(to) : Date.now()) - Date.parse(from);
}

export type Align = 'left' | 'right';

/** A boxed table in the style of the timing table; `align` per column (default left). */
export function renderTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const cell = (s: string, i: number) => (align[i] === 'right' ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const row = (r: string[]) => `| ${r.map((s, i) => cell(s ?? '', i)).join(' | ')} |`;
  return [line, row(headers), line, ...rows.map(row), line].join('\n');
}

/**
 * Rows a job loaded: the final count from job.result once the job has one (it is written once, at the
 * end), else the live progress count.
 */
export function rowsOf(job: Job): number {
  const final = job.result?.rowsLoaded;
  return typeof final === 'number' ? final : job.progress.rowsLoaded;
}

/** One line per job: id, status, target, rows, rows/s of its last run, duration, created. */
export function jobsTable(jobs: Array<{ job: Job; lastRun?: Run | undefined }>): string {
  const rows = jobs.map(({ job, lastRun }) => [
    job.id,
    job.status,
    job.target,
    fmtInt(rowsOf(job)),
    fmtInt(lastRun?.rowsPerSecond),
    fmtDuration(elapsedMs(job.createdAt, job.finishedAt)),
    fmtTime(job.createdAt),
  ]);
  return renderTable(['id', 'status', 'target', 'rows', 'rows/s', 'duration', 'created'], rows, ['left', 'left', 'left', 'right', 'right', 'right', 'left']);
}

/** Cuts a string to `max` characters, showing line breaks, tabs and other control characters escaped. */
export function cut(s: string, max: number): string {
  const flat = s.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export function rejectsTable(rejects: RejectRow[]): string {
  const rows = rejects.map((r) => [r.line !== null ? fmtInt(r.line) : rejectPlace(r), r.column ?? '-', r.sqlstate, cut(r.message, 60), cut(r.record, 60)]);
  return renderTable(['line', 'column', 'sqlstate', 'message', 'record'], rows, ['right', 'left', 'left', 'left', 'left']);
}

/** mode "merge": each file's counts (inserted, updated, deleted, deletes of missing keys, rejected) and the total. */
export function mergeTable(files: Array<{ key: string; merge: MergeCounts }>, total: MergeCounts): string {
  const keys: Array<keyof MergeCounts> = ['inserted', 'updated', 'deleted', 'deleteMissing', 'rejected'];
  const row = (name: string, m: MergeCounts) => [name, ...keys.map((k) => fmtInt(m[k]))];
  const rows = [...files.map((f) => row(f.key, f.merge)), row('total', total)];
  return renderTable(['merged file', ...keys], rows, ['left', 'right', 'right', 'right', 'right', 'right']);
}

/** The Citus shard layout of a run: nodes with shards and bytes, then the skew. */
export function shardLayoutTable(layout: NonNullable<Run['shardLayout']>): string {
  const what =
    layout.type === 'distributed'
      ? `distributed on ${layout.distributionColumn ?? '?'}, ${fmtInt(layout.shardCount)} shards, colocation group ${layout.colocationId ?? '-'}`
      : layout.type === 'reference'
        ? 'reference table'
        : 'local table';
  const rows = layout.nodes.map((n) => [n.node, fmtInt(n.shards), fmtBytes(n.bytes)]);
  const skew =
    layout.skew === null
      ? `skew: - (a shard is empty; largest ${fmtBytes(layout.largestShardBytes)})`
      : `skew: ${layout.skew.toFixed(3)} (largest shard ${fmtBytes(layout.largestShardBytes)}, smallest ${fmtBytes(layout.smallestShardBytes)})`;
  return [`shard layout (${what})`, renderTable(['node', 'shards', 'bytes'], rows, ['left', 'right', 'right']), skew].join('\n');
}

// Shows a job's live progress on stderr while it runs: a cli-progress bar on a terminal, a plain line
// every few seconds otherwise (CI logs, pipes), nothing with --json. Rates come from the last few
// seconds of samples of job.progress, so a stall shows at once instead of being averaged away.
import cliProgress from 'cli-progress';
import type { Job } from '../sql/jobRows.js';
import { fmtBytes, fmtDuration, fmtInt } from './format.js';

export interface Rates {
  rowsPerSecond: number | null;
  bytesPerSecond: number | null;
  /** Milliseconds left at the current byte rate; null while unknown. */
  etaMs: number | null;
}

/** Rates over a sliding window of (time, bytes, rows) samples. */
export class RateTracker {
  private samples: Array<{ t: number; bytes: number; rows: number }> = [];

  /** @param windowMs how far back rates look. Default 5 s. */
  constructor(private readonly windowMs = 5_000) {}

  add(t: number, bytes: number, rows: number, bytesTotal: number | null): Rates {
    // A retried run starts from zero again: forget the samples of the attempt before.
    const last = this.samples[this.samples.length - 1];
    if (last && (bytes < last.bytes || rows < last.rows)) this.samples = [];
    this.samples.push({ t, bytes, rows });
    while (this.samples.length > 2 && t - this.samples[1]!.t >= this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (t - first.t) / 1000;
    if (dt <= 0) return { rowsPerSecond: null, bytesPerSecond: null, etaMs: null };
    const bytesPerSecond = (bytes - first.bytes) / dt;
    const rowsPerSecond = (rows - first.rows) / dt;
    const etaMs = bytesTotal !== null && bytesPerSecond > 0 ? (Math.max(0, bytesTotal - bytes) / bytesPerSecond) * 1000 : null;
    return { rowsPerSecond, bytesPerSecond, etaMs };
  }
}

export interface ProgressView {
  update(job: Job): void;
  /** A short notice (e.g. "cancelling"), shown with the progress. */
  note(text: string): void;
  stop(): void;
}

export type ViewMode = 'bar' | 'lines' | 'none';

export interface ViewOptions {
  mode: ViewMode;
  /** Where progress goes. Default process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Seconds between lines in `lines` mode. Default 3 s. */
  lineIntervalMs?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

/** `bar` on a terminal, `lines` otherwise, `none` when the output must stay clean (--json). */
export function viewModeFor(stream: NodeJS.WriteStream, json: boolean): ViewMode {
  if (json) return 'none';
  return stream.isTTY ? 'bar' : 'lines';
}

export function createView(opts: ViewOptions): ProgressView {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  if (opts.mode === 'none') return { update() {}, note() {}, stop() {} };
  if (opts.mode === 'lines') return lineView(stream, opts.lineIntervalMs ?? 3_000, now);
  return barView(stream, now);
}

/** The words a line or bar shows for a job at one moment. */
export function describe(job: Job, r: Rates): { pct: string; read: string; size: string; rows: string; rate: string; left: string } {
  const p = job.progress;
  return {
    pct: p.bytesTotal ? `${Math.floor((100 * p.bytesRead) / p.bytesTotal)}%` : '?%',
    read: fmtBytes(p.bytesRead),
    size: fmtBytes(p.bytesTotal),
    rows: fmtInt(p.rowsLoaded),
    rate: r.rowsPerSecond === null ? '-' : fmtInt(r.rowsPerSecond),
    left: r.etaMs === null ? '-' : fmtDuration(r.etaMs),
  };
}

function lineView(stream: NodeJS.WriteStream, intervalMs: number, now: () => number): ProgressView {
  const tracker = new RateTracker();
  let lastLine = -Infinity;
  let lastStatus = '';
  let notice = '';
  return {
    update(job) {
      const t = now();
      const r = tracker.add(t, job.progress.bytesRead, job.progress.rowsLoaded, job.progress.bytesTotal);
      // A line on every change of status, and every interval while it runs.
      if (job.status === lastStatus && t - lastLine < intervalMs) return;
      lastStatus = job.status;
      lastLine = t;
      if (job.status === 'queued') {
        stream.write(`job ${job.id} queued${notice}\n`);
        return;
      }
      const d = describe(job, r);
      stream.write(`job ${job.id} ${job.status}: ${d.read} of ${d.size} (${d.pct}), ${d.rows} rows, ${d.rate} rows/s, ETA ${d.left}${notice}\n`);
    },
    note(text) {
      notice = ` (${text})`;
      stream.write(`${text}\n`);
    },
    stop() {},
  };
}

function barView(stream: NodeJS.WriteStream, now: () => number): ProgressView {
  const tracker = new RateTracker();
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{status} [{bar}] {pct} | {read} of {size} | {rows} rows | {rate} rows/s | ETA {left}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let notice = '';
  return {
    update(job) {
      const r = tracker.add(now(), job.progress.bytesRead, job.progress.rowsLoaded, job.progress.bytesTotal);
      const total = job.progress.bytesTotal ?? 0;
      const payload = { status: `${job.status}${notice}`.padEnd(9), ...describe(job, r) };
      if (!started) {
        bar.start(Math.max(total, 1), Math.min(job.progress.bytesRead, Math.max(total, 1)), payload);
        started = true;
        return;
      }
      if (total > 0) bar.setTotal(total);
      bar.update(total > 0 ? Math.min(job.progress.bytesRead, total) : 0, payload);
    },
    note(text) {
      notice = ` (${text})`;
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

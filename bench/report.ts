// Turns the raw per-round measurements into per-contender figures (the median of its valid rounds),
// prints them as a table, and shapes them for the chart.
import type { Bar, ChartInput } from './chart.js';
import type { NodeCpu } from './nodeCpu.js';
import type { ProfileSummary } from './profile.js';

export interface RoundResult {
  contender: string;
  round: number;
  table: string;
  /** null when the load failed before it could be timed. */
  seconds: number | null;
  rowsPerSecond: number | null;
  mbPerSecond: number | null;
  peakRssMb: number | null;
  /** User + system CPU seconds of the contender's client process during the load. */
  clientCpuS: number | null;
  /** CPU seconds of the embedded S3 endpoint's process during the load (null with an external S3). */
  sourceCpuS: number | null;
  /** count(*) of the table after the load; null when it could not be read. */
  count: number | null;
  valid: boolean;
  error?: string;
  timings?: Record<string, number>;
  extra?: Record<string, unknown>;
  /** --profile: the service's CPU profile of this load, its top functions by self time. */
  profile?: ProfileSummary;
  /** Citus: CPU seconds of each node's PostgreSQL processes during the load (bench/nodeCpu.ts). */
  nodeCpu?: NodeCpu[];
}

export interface Summary {
  contender: string;
  skipped?: string;
  roundsRun: number;
  roundsValid: number;
  /** Median wall-clock seconds of the valid rounds. */
  seconds: number | null;
  bestSeconds: number | null;
  rowsPerSecond: number | null;
  mbPerSecond: number | null;
  /** This contender's rows/s divided by server-copy's; null without a valid server-copy. */
  ratioToServerCopy: number | null;
  /** The same against `server-copy cN` (Citus: server COPY with the service's connections per worker), when it ran. */
  ratioToTunedServerCopy: number | null;
  /** Highest peak RSS over its rounds, MiB. */
  peakRssMb: number | null;
  /** Median client CPU seconds of the valid rounds. */
  clientCpuS: number | null;
  /** clientCpuS per 1,000,000 rows loaded: the client's cost per row, comparable across file sizes. */
  cpuPerMillionRows: number | null;
  /** Median CPU seconds of the embedded S3 endpoint over the valid rounds. */
  sourceCpuS: number | null;
  /** Every round ran and loaded exactly --rows rows. */
  valid: boolean;
  /** Median per stage over the valid rounds (service contenders). */
  timings?: Record<string, number>;
}

export const MB = 1e6;

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarise(names: string[], skipped: Map<string, string>, rounds: RoundResult[], rows: number, bytes: number): Summary[] {
  const summaries = names.map((contender): Summary => {
    const mine = rounds.filter((r) => r.contender === contender);
    const ok = mine.filter((r) => r.valid && r.seconds !== null);
    const secs = median(ok.map((r) => r.seconds!));
    const peaks = mine.map((r) => r.peakRssMb).filter((p): p is number => p !== null);
    const keys = [...new Set(ok.flatMap((r) => Object.keys(r.timings ?? {})))];
    const timings = Object.fromEntries(keys.map((k) => [k, median(ok.map((r) => r.timings?.[k]).filter((v): v is number => typeof v === 'number'))!]));
    return {
      contender,
      ...(skipped.has(contender) ? { skipped: skipped.get(contender)! } : {}),
      roundsRun: mine.length,
      roundsValid: ok.length,
      seconds: secs,
      bestSeconds: ok.length ? Math.min(...ok.map((r) => r.seconds!)) : null,
      rowsPerSecond: secs ? rows / secs : null,
      mbPerSecond: secs ? bytes / MB / secs : null,
      ratioToServerCopy: null,
      ratioToTunedServerCopy: null,
      peakRssMb: peaks.length ? Math.max(...peaks) : null,
      clientCpuS: median(ok.map((r) => r.clientCpuS).filter((v): v is number => v !== null)),
      cpuPerMillionRows: null,
      sourceCpuS: median(ok.map((r) => r.sourceCpuS).filter((v): v is number => v !== null)),
      valid: mine.length > 0 && ok.length === mine.length,
      ...(keys.length ? { timings } : {}),
    };
  });
  const ceiling = summaries.find((s) => s.contender === 'server-copy')?.rowsPerSecond ?? null;
  const tuned = tunedServerCopy(summaries)?.rowsPerSecond ?? null;
  for (const s of summaries) {
    s.cpuPerMillionRows = s.clientCpuS === null ? null : (s.clientCpuS / rows) * 1e6;
    s.ratioToServerCopy = ceiling && s.rowsPerSecond ? s.rowsPerSecond / ceiling : null;
    s.ratioToTunedServerCopy = tuned && s.rowsPerSecond ? s.rowsPerSecond / tuned : null;
  }
  return summaries;
}

/** `server-copy cN` (Citus: server COPY with the service's connections per worker), when it ran. */
function tunedServerCopy(summaries: Summary[]): Summary | undefined {
  return summaries.find((s) => s.contender.startsWith('server-copy c'));
}

export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

export function table(header: string[], body: string[][], rightAligned: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function resultsTable(summaries: Summary[]): string {
  const tuned = tunedServerCopy(summaries);
  const body = summaries
    .filter((s) => !s.skipped || s.roundsRun > 0)
    .map((s) => [
      s.contender,
      `${s.roundsValid}/${s.roundsRun}`,
      s.seconds === null ? '-' : s.seconds.toFixed(3),
      s.bestSeconds === null ? '-' : s.bestSeconds.toFixed(3),
      s.rowsPerSecond === null ? '-' : int(s.rowsPerSecond),
      s.mbPerSecond === null ? '-' : s.mbPerSecond.toFixed(2),
      s.ratioToServerCopy === null ? '-' : `${s.ratioToServerCopy.toFixed(2)}x`,
      ...(tuned ? [s.ratioToTunedServerCopy === null ? '-' : `${s.ratioToTunedServerCopy.toFixed(2)}x`] : []),
      s.peakRssMb === null ? 'n/a' : s.peakRssMb.toFixed(1),
      s.clientCpuS === null ? 'n/a' : s.clientCpuS.toFixed(2),
      s.cpuPerMillionRows === null ? 'n/a' : s.cpuPerMillionRows.toFixed(2),
      s.sourceCpuS === null ? 'n/a' : s.sourceCpuS.toFixed(2),
      s.valid ? 'yes' : 'INVALID',
    ]);
  const header = ['contender', 'rounds', 'median s', 'best s', 'rows/s', 'MB/s', 'vs server-copy', ...(tuned ? [`vs ${tuned.contender}`] : []), 'peak RSS MiB', 'client CPU s', 'CPU s per 1M rows', 'S3 CPU s', 'valid'];
  return table(header, body, new Set(header.map((_, i) => i).filter((i) => i > 0 && i < header.length - 1)));
}

const stageOrder = ['queueWaitMs', 'headMs', 'targetMs', 'connectMs', 'prepareMs', 'ledgerMs', 'firstByteMs', 'copyMs', 'commitMs', 'layoutMs', 'totalMs'];

/** The service runs' own stage timings (medians, ms), plus the wall time outside the run itself. */
export function stageTable(summaries: Summary[]): string | undefined {
  const withTimings = summaries.filter((s) => s.timings && s.seconds !== null);
  if (withTimings.length === 0) return undefined;
  const keys = [...new Set(withTimings.flatMap((s) => Object.keys(s.timings!)))].sort(
    (a, b) => (stageOrder.indexOf(a) + 1 || 99) - (stageOrder.indexOf(b) + 1 || 99),
  );
  const header = ['contender', ...keys, 'outsideRunMs'];
  const body = withTimings.map((s) => [
    s.contender,
    ...keys.map((k) => (s.timings![k] === undefined ? '-' : s.timings![k]!.toFixed(1))),
    s.timings!.totalMs === undefined ? '-' : (s.seconds! * 1000 - s.timings!.totalMs).toFixed(1),
  ]);
  return table(header, body, new Set(header.map((_, i) => i).slice(1)));
}

export function chartInput(summaries: Summary[], title: string, subtitle: string, notes: string[]): ChartInput {
  const bars: Bar[] = summaries.map((s) => {
    if (s.skipped && s.roundsRun === 0) return { label: s.contender, value: null, valueLabel: 'skipped', kind: 'skipped' };
    if (!s.valid || s.rowsPerSecond === null) {
      return { label: s.contender, value: s.rowsPerSecond, valueLabel: `INVALID${s.rowsPerSecond ? ` ${int(s.rowsPerSecond)} rows/s` : ''}`, kind: 'invalid' };
    }
    const ratio = s.ratioToServerCopy === null || s.contender === 'server-copy' ? '' : ` (${s.ratioToServerCopy.toFixed(2)}x)`;
    return {
      label: s.contender,
      value: s.rowsPerSecond,
      valueLabel: `${int(s.rowsPerSecond)} rows/s${ratio}`,
      kind: s.contender === 'server-copy' ? 'reference' : 'contender',
    };
  });
  return { title, subtitle, bars, notes };
}

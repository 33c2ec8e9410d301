// Renders a run's stage timings and totals as a plain-text table for terminals (demo, CLI).
import type { Run } from '../sql/jobRows.js';

const stages: Array<[keyof Run['timings'], string]> = [
  ['queueWaitMs', 'queue wait'],
  ['markerWaitMs', 'wait for marker'],
  ['headMs', 'S3 HEAD / list'],
  ['targetMs', 'prepare target'],
  ['connectMs', 'db connect'],
  ['prepareMs', 'resolve target'],
  ['ledgerMs', 'ledger claim'],
  ['firstByteMs', 'first byte (in COPY)'],
  ['copyMs', 'COPY'],
  ['scanMs', '  of which: byte scan'],
  ['copyWaitMs', '  of which: PostgreSQL'],
  ['sourceWaitMs', '  of which: object storage'],
  ['commitMs', 'commit'],
  ['stageMs', 'create staging'],
  ['publishMs', 'publish'],
  ['mergeWaitMs', 'wait for earlier merge'],
  ['mergeMs', 'merge (in file transactions)'],
  ['analyzeMs', 'analyze'],
  ['rebalanceMs', 'rebalance'],
  ['layoutMs', 'shard layout'],
  ['totalMs', 'total'],
];

const fmtMs = (ms: number | undefined): string => (ms === undefined ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const fmtInt = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : n.toLocaleString('en-US'));

export function timingTable(run: Run): string {
  const rows: Array<[string, string]> = stages.map(([k, label]) => [label, fmtMs(run.timings[k])]);
  rows.push(['rows loaded', fmtInt(run.rowsLoaded)]);
  rows.push(['bytes read', fmtInt(run.bytesRead)]);
  rows.push(['rows/s', fmtInt(run.rowsPerSecond)]);
  rows.push(['MB/s', run.mbPerSecond === null ? '-' : run.mbPerSecond.toFixed(2)]);
  const w = Math.max(...rows.map(([l]) => l.length));
  const v = Math.max(...rows.map(([, x]) => x.length));
  const line = `+${'-'.repeat(w + 2)}+${'-'.repeat(v + 2)}+`;
  const head = `run ${run.attempt} (${run.status})`;
  return [head, line, ...rows.map(([l, x]) => `| ${l.padEnd(w)} | ${x.padStart(v)} |`), line].join('\n');
}

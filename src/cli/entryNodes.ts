// The CLI's table of what each entry node took in a run (target.entryNodes), printed beside the shard
// layout: rows, source bytes and share per node, and how the nodes were chosen.
import type { Run } from '../sql/jobRows.js';
import { fmtBytes, fmtInt, renderTable } from './format.js';

export function entryNodesTable(run: Pick<Run, 'entryNodes' | 'entryChoice'>): string | undefined {
  if (!run.entryNodes || !run.entryChoice) return undefined;
  const total = run.entryNodes.reduce((a, n) => a + n.rows, 0);
  const rows = run.entryNodes.map((n) => [n.node, fmtInt(n.rows), fmtBytes(n.bytes), total ? `${((n.rows / total) * 100).toFixed(1)}%` : '-']);
  const choice = run.entryChoice;
  return [
    `entry nodes (${choice.used}${choice.requested !== choice.used ? `, asked "${choice.requested}"` : ''}: ${choice.reason})`,
    renderTable(['entry node', 'rows', 'bytes', 'share'], rows, ['left', 'right', 'right', 'right']),
  ].join('\n');
}

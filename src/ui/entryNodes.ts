// The job page's section on entry nodes (target.entryNodes): what each node the last run entered at
// took, with its share of the rows, and why those nodes.
import type { Run } from '../sql/jobRows.js';
import { fmtBytes, fmtInt } from './format.js';
import { html, type SafeHtml } from './html.js';

export function entryNodesSection(runs: Run[]): SafeHtml {
  const run = [...runs].reverse().find((r) => r.entryNodes && r.entryChoice);
  if (!run?.entryNodes || !run.entryChoice) return html``;
  const total = run.entryNodes.reduce((a, n) => a + n.rows, 0);
  const share = (rows: number) => (total ? rows / total : 0);
  return html`<h2>Entry nodes</h2>
<section id="entry-nodes" data-used="${run.entryChoice.used}">
<p class="note">${run.entryChoice.used === 'all' ? 'Files and chunks entered at every node in turn' : 'Every row entered at the coordinator'}: ${run.entryChoice.reason}.</p>
<div class="scroll"><table id="entry-node-shares">
<thead><tr><th>node</th><th class="num">rows</th><th class="num">bytes</th><th>share</th></tr></thead>
<tbody>${run.entryNodes.map(
    (n) => html`<tr data-node="${n.node}"><td><code>${n.node}</code></td><td class="num">${fmtInt(n.rows)}</td><td class="num" title="${fmtInt(n.bytes)} bytes">${fmtBytes(n.bytes)}</td>
<td><span class="share" style="width:${(share(n.rows) * 200).toFixed(1)}px"></span> <span class="muted">${(share(n.rows) * 100).toFixed(1)}%</span></td></tr>`,
  )}</tbody></table></div>
<p class="note">Run ${run.attempt}.</p>
</section>`;
}

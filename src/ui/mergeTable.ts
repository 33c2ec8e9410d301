// The job page's merge section (mode "merge"): what each file's records did to the target, file by
// file in merge order, and the job's total.
import type { Job, MergeCounts, Run } from '../sql/jobRows.js';
import { fmtInt } from './format.js';
import { html, type SafeHtml } from './html.js';

const columns: ReadonlyArray<[keyof MergeCounts, string]> = [
  ['inserted', 'inserted'],
  ['updated', 'updated'],
  ['deleted', 'deleted'],
  ['deleteMissing', 'delete of a missing key'],
  ['rejected', 'rejected'],
];

export function mergeSection(job: Job & { runs: Run[] }): SafeHtml {
  if (job.spec.mode !== 'merge') return html``;
  const files = job.runs.flatMap((run) => run.files.filter((f) => f.merge).map((f) => ({ run, f, m: f.merge! })));
  const total = job.result?.merge as MergeCounts | undefined;
  if (!files.length && !total) return html`<h2>Merge</h2><p class="muted" id="no-merge">No file merged yet.</p>`;
  const cells = (m: MergeCounts) => columns.map(([k]) => html`<td class="num ${k}">${fmtInt(m[k])}</td>`);
  return html`<h2>Merge</h2>
<div class="scroll"><table id="merge-table">
<thead><tr><th>run</th><th>file</th>${columns.map(([, label]) => html`<th class="num">${label}</th>`)}</tr></thead>
<tbody>${files.map(({ run, f, m }) => html`<tr data-key="${f.key}"><td>${run.attempt}</td><td><code>${f.key}</code></td>${cells(m)}</tr>`)}
${total ? html`<tr id="merge-total"><td></td><td><strong>job total</strong></td>${cells(total)}</tr>` : ''}</tbody></table></div>`;
}

// GET /ui: the job list, newest first, with status filters and cursor pagination.
import type { Job, JobStatus, Run } from '../sql/jobRows.js';
import { fmtBytes, fmtInt, fmtMs, fmtTime } from './format.js';
import { html, type SafeHtml } from './html.js';
import { badge, page } from './layout.js';

export const jobStatuses: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export interface JobListView {
  jobs: Job[];
  lastRuns: Map<string, Run>;
  status?: JobStatus;
  limit: number;
  /** True when this is not the first page. */
  paged: boolean;
  nextCursor?: string;
  defaultLimit: number;
}

function listHref(q: { status?: JobStatus | undefined; cursor?: string | undefined; limit: number }, defaultLimit: number): string {
  const params = new URLSearchParams();
  if (q.status) params.set('status', q.status);
  if (q.limit !== defaultLimit) params.set('limit', String(q.limit));
  if (q.cursor) params.set('cursor', q.cursor);
  const s = params.toString();
  return s ? `/ui?${s}` : '/ui';
}

/**
 * What the job did, for the "rows loaded" column: a load's rows; a table operation's own outcome (its
 * run records shards moved as its rows and bytes moved as its bytes).
 */
function didCell(job: Job): SafeHtml {
  const op = job.spec.tableOperation;
  if (!op) return html`<td class="num rows">${fmtInt(job.progress.rowsLoaded)}</td>`;
  if (op.kind === 'analyze') return html`<td class="num rows op">${job.status === 'succeeded' ? 'analyzed' : '–'}</td>`;
  const shards = job.progress.rowsLoaded;
  return html`<td class="num rows op">${fmtInt(shards)} ${shards === 1 ? 'shard' : 'shards'} moved, ${fmtBytes(job.progress.bytesRead)}</td>`;
}

function lastRunCells(job: Job, run: Run | undefined): SafeHtml {
  if (!run) return html`<td class="num rate">–</td><td class="num duration">–</td>`;
  // A table operation loads no rows: no rate.
  if (job.spec.tableOperation && run.status !== 'running') {
    return html`<td class="num rate muted">–</td><td class="num duration" title="run ${run.attempt} (${run.status})">${fmtMs(run.timings.totalMs)}</td>`;
  }
  if (run.status === 'running') {
    const elapsed = Date.now() - Date.parse(run.startedAt);
    return html`<td class="num rate muted">running</td><td class="num duration" title="so far">${fmtMs(elapsed)}</td>`;
  }
  return html`<td class="num rate">${fmtInt(run.rowsPerSecond)}</td><td class="num duration" title="run ${run.attempt} (${run.status})">${fmtMs(run.timings.totalMs)}</td>`;
}

export function jobListPage(v: JobListView): SafeHtml {
  const filters = html`<nav class="filters" id="status-filters">
<a href="${listHref({ limit: v.limit }, v.defaultLimit)}" class="${v.status ? '' : 'on'}" data-filter="all">all</a>
${jobStatuses.map((s) => html`<a href="${listHref({ status: s, limit: v.limit }, v.defaultLimit)}" class="${v.status === s ? 'on' : ''}" data-filter="${s}">${s}</a>`)}
</nav>`;

  const rows = v.jobs.map(
    (job) => html`<tr data-job-id="${job.id}" data-status="${job.status}">
<td class="id"><a href="/ui/jobs/${encodeURIComponent(job.id)}" title="${job.id}"><code>${job.id.slice(0, 8)}</code></a></td>
<td class="status">${badge(job.status)}${job.cancelRequested && job.status === 'running' ? html` <span class="muted">cancelling</span>` : ''}</td>
<td class="target"><code>${job.target}</code></td>
<td class="source"><code>${job.sourceUrl}</code></td>
${didCell(job)}
${lastRunCells(job, v.lastRuns.get(job.id))}
<td class="created" title="${job.createdAt}">${fmtTime(job.createdAt)}</td>
</tr>`,
  );

  const table = v.jobs.length
    ? html`<div class="scroll"><table id="jobs-table">
<thead><tr><th>job</th><th>status</th><th>target</th><th>source</th><th class="num">rows loaded</th><th class="num">rows/s</th><th class="num">duration</th><th>created</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`
    : html`<p id="no-jobs" class="muted">No ${v.status ?? ''} jobs${v.paged ? ' on this page' : ''}.</p>`;

  const pager = html`<nav class="pager" id="pager">
${v.paged ? html`<a href="${listHref({ status: v.status, limit: v.limit }, v.defaultLimit)}" id="first-page">← newest</a>` : ''}
${v.nextCursor ? html`<a href="${listHref({ status: v.status, cursor: v.nextCursor, limit: v.limit }, v.defaultLimit)}" id="next-page" rel="next">older →</a>` : ''}
</nav>`;

  return page({
    title: v.status ? `${v.status} jobs` : 'jobs',
    body: html`<h1>Jobs</h1>
${filters}
${table}
${pager}
<p class="note">Rows/s and duration are those of each job's last run. Times are UTC.</p>`,
  });
}

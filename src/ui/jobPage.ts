// GET /ui/jobs/:id: one job — header and result, stage timings per run, throughput over time, the
// files, the shard layout and the first rejects. Refreshes itself while the job is queued or running.
import { rejectPlace } from '../sink/reject.js';
import type { RejectRow } from '../sql/rejects.js';
import type { Job, Run, RunFile } from '../sql/jobRows.js';
import type { ShardLayout } from '../sink/citus.js';
import { specDefaults } from '../jobs/spec.js';
import { mergeSection } from './mergeTable.js';
import { entryNodesSection } from './entryNodes.js';
import { stageChart } from './stageChart.js';
import { throughputChart } from './throughputChart.js';
import { fmtBytes, fmtInt, fmtMs, fmtTime } from './format.js';
import { html, type Interpolation, type SafeHtml } from './html.js';
import { badge, page } from './layout.js';

export interface JobPageView {
  job: Job & { runs: Run[] };
  rejects: RejectRow[];
  rejectsTotal: number;
  /** Seconds between reloads while the job is not finished. */
  refreshSeconds: number;
  /** A page of the job's files (GET /jobs/:id/files); without it, the files the job document holds. */
  files?: { entries: Array<RunFile & { attempt: number }>; nextCursor?: string; paged: boolean };
}

const num = (o: Record<string, unknown> | null, key: string): number | undefined => {
  const v = o?.[key];
  return typeof v === 'number' ? v : undefined;
};

function fact(label: string, value: Interpolation, id?: string): SafeHtml {
  return html`<div${id ? html` id="${id}"` : ''}><dt>${label}</dt><dd>${value}</dd></div>`;
}

function detailsList(details: Record<string, unknown> | undefined): SafeHtml {
  if (!details) return html``;
  const entries = Object.entries(details).filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object');
  if (!entries.length) return html``;
  return html`<div class="muted">${entries.map(([k, v], i) => html`${i ? ' · ' : ''}${k}: <code>${String(v)}</code>`)}</div>`;
}

function header(job: Job & { runs: Run[] }): SafeHtml {
  const r = job.result;
  const active = job.status === 'queued' || job.status === 'running';
  const rowsLoaded = num(r, 'rowsLoaded') ?? job.progress.rowsLoaded;
  const dry = r && typeof r.dryRun === 'object' && r.dryRun ? (r.dryRun as Record<string, unknown>) : undefined;
  const pct = job.progress.bytesTotal ? Math.min(100, (job.progress.bytesRead / job.progress.bytesTotal) * 100) : undefined;
  return html`<h1><span>Job <code id="job-id">${job.id}</code></span> ${badge(job.status)}${job.cancelRequested && active ? html` <span class="badge cancelled">cancel requested</span>` : ''}</h1>
${active ? html`<p class="note" id="refresh-note">This page reloads every 2 s while the job is ${job.status}.</p>` : ''}
${job.error
  ? html`<div class="error-box" id="job-error"><code class="code">${job.error.code}</code> <span class="message">${job.error.message}</span>${detailsList(job.error.details)}</div>`
  : ''}
<dl class="facts" id="job-facts">
${fact('target', html`<code>${job.target}</code>`, 'fact-target')}
${fact('source', html`<code>${job.sourceUrl}</code>`, 'fact-source')}
${fact('attempts', job.attempts, 'fact-attempts')}
${fact('created', fmtTime(job.createdAt))}
${fact('started', fmtTime(job.startedAt))}
${fact('finished', fmtTime(job.finishedAt))}
${fact(dry ? 'rows valid (dry run)' : 'rows loaded', fmtInt(dry ? num(dry, 'rowsValid') : rowsLoaded), 'fact-rows-loaded')}
${fact('rows rejected', fmtInt(num(r, 'rowsRejected') ?? job.runs.at(-1)?.rowsRejected), 'fact-rows-rejected')}
${fact('files loaded / skipped', `${fmtInt(num(r, 'filesLoaded'))} / ${fmtInt(num(r, 'filesSkipped'))}`, 'fact-files')}
${fact('blank lines', fmtInt(num(r, 'blankLines')), 'fact-blank-lines')}
${fact('bytes read', html`<span title="${fmtInt(job.progress.bytesRead)} bytes">${fmtBytes(num(r, 'bytesRead') ?? job.progress.bytesRead)}</span>${job.progress.bytesTotal !== null ? html` <span class="muted">of ${fmtBytes(job.progress.bytesTotal)}</span>` : ''}`)}
${active && job.progress.listing === 'in progress' ? fact('listing', html`${fmtInt(job.progress.objectsListed)} objects so far <span class="muted">(the total is known once the listing ends)</span>`, 'fact-listing') : ''}
</dl>
${active && pct !== undefined ? html`<div class="progress" id="progress" title="${pct.toFixed(1)}%"><span style="width:${pct.toFixed(1)}%"></span></div>` : ''}
${typeof r?.note === 'string' ? html`<p class="note">${r.note}</p>` : ''}`;
}

function runsTable(runs: Run[]): SafeHtml {
  if (!runs.length) return html`<p class="muted" id="no-runs">No run has started yet.</p>`;
  return html`<div class="scroll"><table id="runs-table">
<thead><tr><th>run</th><th>status</th><th>worker</th><th>started</th><th class="num">duration</th><th class="num">rows</th><th class="num">rejected</th><th class="num">bytes</th><th class="num">rows/s</th><th class="num">MB/s</th><th>error</th></tr></thead>
<tbody>${runs.map(
    (run) => html`<tr data-run="${run.attempt}">
<td>${run.attempt}</td><td>${badge(run.status)}</td><td><code>${run.worker}</code></td><td class="time">${fmtTime(run.startedAt)}</td>
<td class="num">${fmtMs(run.timings.totalMs)}</td><td class="num">${fmtInt(run.rowsLoaded)}</td><td class="num">${fmtInt(run.rowsRejected)}</td>
<td class="num">${fmtBytes(run.bytesRead)}</td><td class="num">${fmtInt(run.rowsPerSecond)}</td><td class="num">${run.mbPerSecond === null ? '–' : run.mbPerSecond.toFixed(2)}</td>
<td>${run.error ? html`<code>${run.error.code}</code> ${run.error.message}` : ''}</td>
</tr>`,
  )}</tbody></table></div>`;
}

/** The job and run that loaded a skipped file, from the job result's `skipped` list when it names it. */
function loadedBy(job: Job, f: RunFile): SafeHtml {
  if (!f.loadedByRun) return html``;
  const skipped = Array.isArray(job.result?.skipped) ? (job.result.skipped as Array<Record<string, unknown>>) : [];
  const entry = skipped.find((s) => s.runId === f.loadedByRun);
  const short = html`<code title="${f.loadedByRun}">${f.loadedByRun.slice(0, 8)}</code>`;
  return typeof entry?.jobId === 'string' ? html`run ${short} of <a href="/ui/jobs/${encodeURIComponent(entry.jobId)}">job ${entry.jobId.slice(0, 8)}</a>` : html`run ${short}`;
}

function filesTable(job: Job & { runs: Run[] }, filesPage: JobPageView['files']): SafeHtml {
  const files = filesPage
    ? filesPage.entries.map((f) => ({ attempt: f.attempt, f }))
    : job.runs.flatMap((run) => run.files.map((f) => ({ attempt: run.attempt, f })));
  const total = job.runs.reduce((n, r) => n + (r.fileCount ?? r.files.length), 0);
  if (!files.length) return html`<p class="muted" id="no-files">No file recorded yet.</p>`;
  const base = `/ui/jobs/${encodeURIComponent(job.id)}`;
  const paging = html`<p class="muted" id="files-paging">${fmtInt(files.length)} of ${fmtInt(total)} files${filesPage?.paged ? html` · <a href="${base}">first page</a>` : ''}${filesPage?.nextCursor ? html` · <a id="files-next" href="${base}?files=${encodeURIComponent(filesPage.nextCursor)}">next files</a>` : ''}</p>`;
  return html`${paging}<div class="scroll"><table id="files-table">
<thead><tr><th>run</th><th>key</th><th>status</th><th class="num">rows loaded</th><th class="num">rejected</th><th class="num">blank lines</th><th class="num">bytes</th><th class="num">copy</th><th>loaded by</th></tr></thead>
<tbody>${files.map(
    ({ attempt, f }) => html`<tr data-key="${f.key}" data-run="${attempt}">
<td>${attempt}</td><td class="key"><code title="${f.url} · version ${f.version}">${f.key}</code>${f.error ? html`<div class="muted"><code>${f.error.code}</code> ${f.error.message}</div>` : ''}</td>
<td>${badge(f.status)}</td><td class="num rows">${fmtInt(f.rowsLoaded)}</td><td class="num rejected">${fmtInt(f.rowsRejected)}</td>
<td class="num blank">${fmtInt(f.blankLines)}</td><td class="num bytes" title="${fmtInt(f.bytesRead)} of ${fmtInt(f.size)} bytes">${fmtBytes(f.bytesRead)}</td>
<td class="num copy">${fmtMs(f.timings.copyMs)}</td><td class="loaded-by">${loadedBy(job, f)}</td>
</tr>`,
  )}</tbody></table></div>`;
}

function shardLayout(runs: Run[]): SafeHtml {
  const withLayout = [...runs].reverse().find((r) => r.shardLayout);
  if (!withLayout) return html``;
  const l = withLayout.shardLayout as ShardLayout;
  const total = l.nodes.reduce((a, n) => a + n.bytes, 0);
  return html`<h2>Shard layout</h2>
<section id="shard-layout" data-type="${l.type}">
<dl class="facts">
${fact('table type', l.type)}
${fact('distribution column', l.distributionColumn === null ? '–' : html`<code>${l.distributionColumn}</code>`)}
${fact('shards', fmtInt(l.shardCount))}
${fact('colocation group', l.colocationId ?? '–')}
${fact('skew (largest / smallest shard)', html`<span id="skew">${l.skew === null ? '– (a shard is empty)' : `${l.skew.toFixed(3)}×`}</span> <span class="muted">${fmtBytes(l.largestShardBytes)} / ${fmtBytes(l.smallestShardBytes)}</span>`)}
</dl>
${l.nodes.length
  ? html`<div class="scroll"><table id="shard-nodes" style="margin-top:10px">
<thead><tr><th>node</th><th class="num">shards</th><th class="num">bytes</th><th>share</th></tr></thead>
<tbody>${l.nodes.map(
      (n) => html`<tr data-node="${n.node}"><td><code>${n.node}</code></td><td class="num">${fmtInt(n.shards)}</td><td class="num" title="${fmtInt(n.bytes)} bytes">${fmtBytes(n.bytes)}</td>
<td><span class="share" style="width:${total ? ((n.bytes / total) * 200).toFixed(1) : 0}px"></span> <span class="muted">${total ? ((n.bytes / total) * 100).toFixed(1) : '0'}%</span></td></tr>`,
    )}</tbody></table></div>`
  : ''}
<p class="note">After run ${withLayout.attempt}.</p>
</section>`;
}

function rejectsTable(job: Job, rejects: RejectRow[], total: number): SafeHtml {
  if (!total) return html`<p class="muted" id="no-rejects">No rejected records.</p>`;
  const manyFiles = new Set(rejects.map((r) => r.url)).size > 1;
  return html`<p class="note">${total > rejects.length ? `The first ${fmtInt(rejects.length)} of ${fmtInt(total)}; ` : `${fmtInt(total)} in all; `}every one through <a href="/jobs/${encodeURIComponent(job.id)}/rejects">GET /jobs/${job.id}/rejects</a>. Lines count from 1 in the original file, header included; Parquet rows (which have no lines) count from 0.</p>
<div class="scroll"><table id="rejects-table">
<thead><tr><th class="num">line / row</th>${manyFiles ? html`<th>file</th>` : ''}<th class="num">byte offset</th><th>column</th><th>SQLSTATE</th><th>message</th><th>record</th></tr></thead>
<tbody>${rejects.map(
    (r) => html`<tr data-line="${r.line ?? ''}">
<td class="num line">${rejectPlace(r)}</td>${manyFiles ? html`<td class="file"><code>${r.url}</code></td>` : ''}<td class="num offset">${fmtInt(r.byteOffset)}</td>
<td class="column">${r.column === null ? '–' : html`<code>${r.column}</code>`}</td><td class="sqlstate"><code>${r.sqlstate}</code></td>
<td class="message">${r.message}</td><td class="record"><code>${r.record}</code></td>
</tr>`,
  )}</tbody></table></div>`;
}

/** Why the line may come in bursts: rows are counted as they are read, and batches stop the reading. */
function throughputNote(job: Job): string {
  const base = 'Rows are counted as they are read from the object and framed, so a flat stretch is the load waiting (on PostgreSQL or on S3).';
  const batched = (job.spec.maxErrors ?? specDefaults.maxErrors) > 0 || job.spec.maxErrorRatio !== undefined;
  return batched ? `${base} With an error budget the file goes to COPY in batches of about 8 MiB, each acknowledged before the next begins, so the line can come in bursts.` : base;
}

export function jobPage(v: JobPageView): SafeHtml {
  const { job } = v;
  const active = job.status === 'queued' || job.status === 'running';
  return page({
    title: `job ${job.id.slice(0, 8)} (${job.status})`,
    ...(active ? { refreshSeconds: v.refreshSeconds } : {}),
    body: html`${header(job)}
<h2>Runs</h2>
${runsTable(job.runs)}
<h2>Stage timings</h2>
${stageChart(job.runs)}
<h2>Throughput</h2>
${throughputChart(job.runs, throughputNote(job))}
<h2>Files</h2>
${filesTable(job, v.files)}
${mergeSection(job)}
${shardLayout(job.runs)}
${entryNodesSection(job.runs)}
<h2>Rejects</h2>
${rejectsTable(job, v.rejects, v.rejectsTotal)}`,
  });
}

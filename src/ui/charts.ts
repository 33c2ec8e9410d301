// The job page's charts as inline SVG drawn on the server: a stacked bar of stage timings per run and
// a throughput (rows/s) line per run. No script and no chart library; every value reaches the markup
// through `html`, and elements carry ids and data attributes a test (or a user's script) can find.
import type { Run } from '../sql/jobRows.js';
import { fmtInt, fmtMs, fmtShort, niceStep, px } from './format.js';
import { html, type SafeHtml } from './html.js';

/** The stages that add up along a run, in the order they happen, with their labels and colours. */
export const stageOrder: ReadonlyArray<{ key: string; label: string; color: string }> = [
  { key: 'queueWaitMs', label: 'queue wait', color: '#afb8c1' },
  { key: 'headMs', label: 'S3 HEAD', color: '#8250df' },
  { key: 'targetMs', label: 'prepare target', color: '#bf3989' },
  { key: 'connectMs', label: 'db connect', color: '#e16f24' },
  { key: 'prepareMs', label: 'resolve target', color: '#d4a72c' },
  { key: 'ledgerMs', label: 'ledger claim', color: '#4ac26b' },
  { key: 'copyMs', label: 'COPY', color: '#0969da' },
  { key: 'commitMs', label: 'commit', color: '#1a7f37' },
  { key: 'stageMs', label: 'create staging', color: '#57606a' },
  { key: 'publishMs', label: 'publish', color: '#cf222e' },
  { key: 'layoutMs', label: 'shard layout', color: '#1b7c83' },
];
/** Not segments: firstByteMs lies inside copyMs, totalMs is the run's wall clock. */
const notSegments = new Set(['firstByteMs', 'totalMs']);
const extraColors = ['#953800', '#0a3069', '#6639ba', '#3d444d'];
const runColors = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#e16f24', '#1b7c83'];

type StageDef = { key: string; label: string; color: string };

/** The stages any of the runs has, known ones in order, then any newer stage this page does not know. */
function stagesPresent(runs: Run[]): StageDef[] {
  const has = (key: string) => runs.some((r) => typeof (r.timings as Record<string, unknown>)[key] === 'number');
  const known = stageOrder.filter((s) => has(s.key));
  const knownKeys = new Set(stageOrder.map((s) => s.key));
  const extra = new Set<string>();
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.timings)) {
      if (typeof v === 'number' && k.endsWith('Ms') && !knownKeys.has(k) && !notSegments.has(k)) extra.add(k);
    }
  }
  return [
    ...known,
    ...[...extra].sort().map((key, i) => ({ key, label: key.replace(/Ms$/, '').replace(/([A-Z])/g, ' $1').toLowerCase(), color: extraColors[i % extraColors.length]! })),
  ];
}

const ms = (run: Run, key: string): number | undefined => {
  const v = (run.timings as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : undefined;
};

/** One horizontal bar per run, a segment per stage, on one shared scale so runs compare. */
export function stageChart(runs: Run[]): SafeHtml {
  const stages = stagesPresent(runs);
  if (runs.length === 0 || stages.length === 0) return html`<p class="note" id="stage-chart-empty">No stage timings recorded yet.</p>`;
  const W = 900;
  const left = 120;
  const right = 120;
  const rowH = 34;
  const barH = 20;
  const top = 6;
  const plotW = W - left - right;
  const sums = runs.map((r) => stages.reduce((a, s) => a + (ms(r, s.key) ?? 0), 0));
  const max = Math.max(...sums, 1);
  const step = niceStep(max, 6);
  const axisMax = Math.ceil(max / step) * step;
  const x = (v: number) => left + (v / axisMax) * plotW;
  const H = top + runs.length * rowH + 30;
  const axisY = top + runs.length * rowH + 4;
  const ticks: number[] = [];
  for (let v = 0; v <= axisMax + step / 2; v += step) ticks.push(v);

  const bars = runs.map((run, i) => {
    const y = top + i * rowH + (rowH - barH) / 2;
    let at = 0;
    const segments = stages.map((s) => {
      const v = ms(run, s.key);
      if (v === undefined) return '';
      const x0 = x(at);
      at += v;
      const w = x(at) - x0;
      return html`<rect data-stage="${s.key}" data-ms="${v}" data-run="${run.attempt}" x="${px(x0)}" y="${px(y)}" width="${px(Math.max(w, 0))}" height="${barH}" fill="${s.color}"><title>run ${run.attempt} · ${s.label}: ${fmtMs(v)}</title></rect>${
        w > 54 ? html`<text x="${px(x0 + w / 2)}" y="${px(y + barH / 2 + 4)}" text-anchor="middle" style="fill:#fff" pointer-events="none">${fmtMs(v)}</text>` : ''
      }`;
    });
    return html`<g class="run-bar" data-run="${run.attempt}">
<text x="${left - 8}" y="${px(y + barH / 2 + 4)}" text-anchor="end">run ${run.attempt} · ${run.status}</text>
${segments}
<text x="${px(x(at) + 6)}" y="${px(y + barH / 2 + 4)}">Σ ${fmtMs(sums[i]!)}</text>
</g>`;
  });

  const axis = html`<line class="axis" x1="${left}" x2="${px(left + plotW)}" y1="${axisY}" y2="${axisY}"/>${ticks.map(
    (v) => html`<line class="grid" x1="${px(x(v))}" x2="${px(x(v))}" y1="${top}" y2="${axisY}"/><text x="${px(x(v))}" y="${axisY + 15}" text-anchor="middle">${fmtMs(v)}</text>`,
  )}`;

  const legend = html`<table id="stage-table" class="legend-table">
<thead><tr><th>stage</th>${runs.map((r) => html`<th class="num">run ${r.attempt}</th>`)}</tr></thead>
<tbody>
${stages.map(
  (s) => html`<tr data-stage="${s.key}"><td><i class="swatch" style="background:${s.color}"></i>${s.label} <span class="muted mono">${s.key}</span></td>${runs.map(
    (r) => html`<td class="num">${fmtMs(ms(r, s.key))}</td>`,
  )}</tr>`,
)}
${runs.some((r) => ms(r, 'firstByteMs') !== undefined)
  ? html`<tr class="first-byte"><td><i class="swatch"></i><em>first byte</em> <span class="muted mono">firstByteMs</span> <span class="muted">(inside COPY, not a segment)</span></td>${runs.map((r) => html`<td class="num"><em>${fmtMs(ms(r, 'firstByteMs'))}</em></td>`)}</tr>`
  : ''}
<tr class="total"><td><i class="swatch"></i><strong>run total</strong> <span class="muted mono">totalMs</span> <span class="muted">(wall clock from run start)</span></td>${runs.map((r) => html`<td class="num"><strong>${fmtMs(ms(r, 'totalMs'))}</strong></td>`)}</tr>
</tbody>
</table>`;

  return html`<div class="scroll"><svg id="stage-chart" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Stage timings per run" xmlns="http://www.w3.org/2000/svg">
${axis}
${bars}
</svg></div>
<p class="note">Each bar is one run; its segments are the stages in the order they run. Queue wait comes before the run starts, so Σ can exceed the run total; with several files loading in parallel, per-file stages add up and can exceed it too.</p>
${legend}`;
}

/** rows/s between consecutive samples, at the end of each interval (x in seconds since run start). */
export function throughputPoints(samples: Run['samples']): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 1; i < samples.length; i++) {
    const [t0, r0] = samples[i - 1]!;
    const [t1, r1] = samples[i]!;
    if (t1 <= t0) continue;
    out.push([t1 / 1000, Math.max(0, ((r1 - r0) * 1000) / (t1 - t0))]);
  }
  return out;
}

/** A line per run of rows/s over seconds since the run started, with the run's average dashed. */
export function throughputChart(runs: Run[]): SafeHtml {
  const series = runs.map((run, i) => ({ run, color: runColors[i % runColors.length]!, points: throughputPoints(run.samples ?? []) }));
  const charted = series.filter((s) => s.points.length > 0);
  const short = series.filter((s) => s.points.length === 0);
  const shortNotes = short.map(
    (s) => html`<p class="note too-short" data-run="${s.run.attempt}">Run ${s.run.attempt}: too short to chart (${(s.run.samples ?? []).length} progress sample${(s.run.samples ?? []).length === 1 ? '' : 's'}).</p>`,
  );
  if (charted.length === 0) return html`<div id="throughput-empty">${runs.length === 0 ? html`<p class="note">No runs yet.</p>` : shortNotes}</div>`;

  const W = 900;
  const H = 270;
  const m = { left: 62, right: 24, top: 14, bottom: 40 };
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom;
  const maxX = Math.max(...charted.flatMap((s) => s.points.map((p) => p[0])), 0.001);
  const maxY = Math.max(...charted.flatMap((s) => [...s.points.map((p) => p[1]), s.run.rowsPerSecond ?? 0]), 1);
  const xStep = niceStep(maxX, 8);
  const yStep = niceStep(maxY, 5);
  const xMax = Math.ceil(maxX / xStep) * xStep;
  const yMax = Math.ceil((maxY * 1.05) / yStep) * yStep;
  const X = (v: number) => m.left + (v / xMax) * plotW;
  const Y = (v: number) => m.top + plotH - (v / yMax) * plotH;
  const xTicks: number[] = [];
  for (let v = 0; v <= xMax + xStep / 2; v += xStep) xTicks.push(v);
  const yTicks: number[] = [];
  for (let v = 0; v <= yMax + yStep / 2; v += yStep) yTicks.push(v);
  const bottom = m.top + plotH;

  const grid = html`${yTicks.map(
    (v) => html`<line class="grid" x1="${m.left}" x2="${m.left + plotW}" y1="${px(Y(v))}" y2="${px(Y(v))}"/><text x="${m.left - 6}" y="${px(Y(v) + 4)}" text-anchor="end">${fmtShort(v)}</text>`,
  )}${xTicks.map(
    (v) => html`<line class="grid" x1="${px(X(v))}" x2="${px(X(v))}" y1="${m.top}" y2="${bottom}"/><text x="${px(X(v))}" y="${bottom + 15}" text-anchor="middle">${fmtShort(v)}</text>`,
  )}
<line class="axis" x1="${m.left}" x2="${m.left + plotW}" y1="${bottom}" y2="${bottom}"/><line class="axis" x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${bottom}"/>
<text x="${m.left + plotW / 2}" y="${H - 4}" text-anchor="middle">seconds since run start</text>
<text x="14" y="${m.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.top + plotH / 2})">rows/s</text>`;

  const lines = charted.map(({ run, color, points }) => {
    const avg = run.rowsPerSecond;
    return html`<g class="series" data-run="${run.attempt}">
${avg ? html`<line class="average" x1="${m.left}" x2="${m.left + plotW}" y1="${px(Y(avg))}" y2="${px(Y(avg))}" stroke="${color}" stroke-dasharray="5 4" stroke-opacity="0.6"><title>run ${run.attempt} average: ${fmtInt(avg)} rows/s</title></line>` : ''}
<polyline fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" data-run="${run.attempt}" data-points="${points.length}" points="${points.map(([t, r]) => `${px(X(t))},${px(Y(r))}`).join(' ')}"/>
${points.length <= 80 ? points.map(([t, r]) => html`<circle cx="${px(X(t))}" cy="${px(Y(r))}" r="2.5" fill="${color}"><title>${t.toFixed(2)} s: ${fmtInt(r)} rows/s</title></circle>`) : ''}
</g>`;
  });

  return html`<div class="scroll"><svg id="throughput-chart" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Rows per second over time" xmlns="http://www.w3.org/2000/svg">
${grid}
${lines}
</svg></div>
<ul class="legend">${charted.map(
    ({ run, color, points }) => html`<li><i style="background:${color}"></i>run ${run.attempt}: ${points.length + 1} samples, average ${fmtInt(run.rowsPerSecond)} rows/s (dashed), peak ${fmtInt(Math.max(...points.map((p) => p[1])))} rows/s</li>`,
  )}</ul>
${shortNotes}`;
}

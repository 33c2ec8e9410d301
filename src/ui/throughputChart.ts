// The job page's throughput chart as inline SVG drawn on the server: rows/s between consecutive
// progress samples, one line per run, over seconds since that run started, with the run's average.
import type { Run } from '../sql/jobRows.js';
import { fmtInt, fmtShort, niceStep, px } from './format.js';
import { html, type SafeHtml } from './html.js';

const runColors = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#e16f24', '#1b7c83'];

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

/** A line per run (runs with fewer than two samples are named as too short), and a note under it. */
export function throughputChart(runs: Run[], note?: string): SafeHtml {
  const series = runs.map((run) => ({ run, points: throughputPoints(run.samples ?? []) }));
  // Colours by charted line, so a single line is always the first colour.
  const charted = series.filter((s) => s.points.length > 0).map((s, i) => ({ ...s, color: runColors[i % runColors.length]! }));
  const short = series.filter((s) => s.points.length === 0);
  const shortNotes = short.map(({ run }) => {
    const n = (run.samples ?? []).length;
    return html`<p class="note too-short" data-run="${run.attempt}">Run ${run.attempt}: too short to chart (${n} progress sample${n === 1 ? '' : 's'}).</p>`;
  });
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
${note ? html`<p class="note" id="throughput-note">${note}</p>` : ''}
${shortNotes}`;
}

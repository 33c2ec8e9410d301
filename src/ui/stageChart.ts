// The job page's stage chart as inline SVG drawn on the server: one stacked horizontal bar per run, a
// segment per stage, and under the COPY (and HEAD) segment a thin strip of what that time was made of.
// Elements carry data attributes (data-stage, data-part, data-ms) a test or a user's script can find.
import type { Run } from '../sql/jobRows.js';
import { fmtMs, fmtTick, niceStep, px } from './format.js';
import { html, type SafeHtml } from './html.js';

interface Stage {
  key: string;
  label: string;
  color: string;
}

/** The stages that add up along a run, in the order they happen. */
export const stages: readonly Stage[] = [
  { key: 'queueWaitMs', label: 'queue wait', color: '#afb8c1' },
  { key: 'headMs', label: 'S3 HEAD / list', color: '#8250df' },
  { key: 'targetMs', label: 'prepare target', color: '#bf3989' },
  { key: 'connectMs', label: 'db connect', color: '#e16f24' },
  { key: 'prepareMs', label: 'resolve target', color: '#d4a72c' },
  { key: 'ledgerMs', label: 'ledger claim', color: '#4ac26b' },
  { key: 'copyMs', label: 'COPY', color: '#0969da' },
  { key: 'commitMs', label: 'commit', color: '#1a7f37' },
  { key: 'stageMs', label: 'create staging', color: '#57606a' },
  { key: 'publishMs', label: 'publish', color: '#cf222e' },
  { key: 'mergeWaitMs', label: 'wait for earlier merge', color: '#d0d7de' },
  { key: 'mergeMs', label: 'merge', color: '#a40e26' },
  { key: 'analyzeMs', label: 'analyze', color: '#6639ba' },
  { key: 'rebalanceMs', label: 'rebalance', color: '#0a3069' },
  { key: 'layoutMs', label: 'shard layout', color: '#1b7c83' },
];

/**
 * Timings that lie inside a stage, not after it: never segments (they would count twice). `drawn`
 * parts share their stage's time between them and are drawn as a strip under its segment; firstByteMs
 * overlaps them, so it is only a note.
 */
export const parts: ReadonlyArray<Stage & { of: string; drawn: boolean }> = [
  { key: 'markerWaitMs', of: 'headMs', label: 'wait for marker', color: '#c297ff', drawn: true },
  { key: 'scanMs', of: 'copyMs', label: 'byte scan', color: '#9a6700', drawn: true },
  { key: 'copyWaitMs', of: 'copyMs', label: 'PostgreSQL', color: '#0550ae', drawn: true },
  { key: 'sourceWaitMs', of: 'copyMs', label: 'object storage', color: '#80ccff', drawn: true },
  { key: 'firstByteMs', of: 'copyMs', label: 'first byte', color: '#fff', drawn: false },
];

const known = new Set([...stages, ...parts].map((s) => s.key).concat('totalMs'));

const ms = (run: Run, key: string): number | undefined => {
  const v = (run.timings as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : undefined;
};

/** One horizontal bar per run on one shared scale, so runs compare, and a table of every value. */
export function stageChart(runs: Run[]): SafeHtml {
  const has = (key: string) => runs.some((r) => ms(r, key) !== undefined);
  const present = stages.filter((s) => has(s.key));
  if (runs.length === 0 || present.length === 0) return html`<p class="note" id="stage-chart-empty">No stage timings recorded yet.</p>`;
  const partsPresent = parts.filter((p) => has(p.key));
  // Timings a newer worker records that this page does not know: listed, not drawn (they may be parts).
  const others = [...new Set(runs.flatMap((r) => Object.keys(r.timings)))].filter((k) => !known.has(k) && k.endsWith('Ms')).sort();

  const W = 900;
  const left = 120;
  const right = 110;
  const rowH = 42;
  const barH = 20;
  const stripH = 5;
  const top = 6;
  const plotW = W - left - right;
  const sums = runs.map((r) => present.reduce((a, s) => a + (ms(r, s.key) ?? 0), 0));
  const max = Math.max(...sums, 1);
  const step = niceStep(max, 6);
  const axisMax = Math.ceil(max / step) * step;
  const x = (v: number) => left + (v / axisMax) * plotW;
  const axisY = top + runs.length * rowH;
  const H = axisY + 24;
  const ticks: number[] = [];
  for (let v = 0; v <= axisMax + step / 2; v += step) ticks.push(v);

  const bars = runs.map((run, i) => {
    const y = top + i * rowH + 4;
    let at = 0;
    const segments = present.map((s) => {
      const v = ms(run, s.key);
      if (v === undefined) return '';
      const x0 = x(at);
      at += v;
      const w = x(at) - x0;
      // The strip under this segment: its drawn parts, side by side from the segment's start.
      let partAt = at - v;
      const strip = partsPresent
        .filter((p) => p.of === s.key && p.drawn && ms(run, p.key) !== undefined)
        .map((p) => {
          const pv = ms(run, p.key)!;
          const px0 = x(partAt);
          partAt += pv;
          return html`<rect data-part="${p.key}" data-of="${s.key}" data-ms="${pv}" data-run="${run.attempt}" x="${px(px0)}" y="${px(y + barH + 2)}" width="${px(Math.max(x(partAt) - px0, 0))}" height="${stripH}" fill="${p.color}"><title>run ${run.attempt} · ${s.label}, of which ${p.label}: ${fmtMs(pv)}</title></rect>`;
        });
      return html`<rect data-stage="${s.key}" data-ms="${v}" data-run="${run.attempt}" x="${px(x0)}" y="${px(y)}" width="${px(Math.max(w, 0))}" height="${barH}" fill="${s.color}"><title>run ${run.attempt} · ${s.label}: ${fmtMs(v)}</title></rect>${
        w > 54 ? html`<text x="${px(x0 + w / 2)}" y="${px(y + barH / 2 + 4)}" text-anchor="middle" style="fill:#fff" pointer-events="none">${fmtMs(v)}</text>` : ''
      }${strip}`;
    });
    return html`<g class="run-bar" data-run="${run.attempt}">
<text x="${left - 8}" y="${px(y + barH / 2 + 4)}" text-anchor="end">run ${run.attempt} · ${run.status}</text>
${segments}
<text x="${px(x(at) + 6)}" y="${px(y + barH / 2 + 4)}">Σ ${fmtMs(sums[i]!)}</text>
</g>`;
  });

  const axis = html`<line class="axis" x1="${left}" x2="${px(left + plotW)}" y1="${axisY}" y2="${axisY}"/>${ticks.map(
    (v) => html`<line class="grid" x1="${px(x(v))}" x2="${px(x(v))}" y1="${top}" y2="${axisY}"/><text x="${px(x(v))}" y="${axisY + 15}" text-anchor="middle">${fmtTick(v)}</text>`,
  )}`;

  const cells = (key: string, wrap?: (s: string) => SafeHtml) => runs.map((r) => html`<td class="num">${wrap ? wrap(fmtMs(ms(r, key))) : fmtMs(ms(r, key))}</td>`);
  const tableRows = present.map((s) => [
    html`<tr data-stage="${s.key}"><td><i class="swatch" style="background:${s.color}"></i>${s.label} <span class="muted mono">${s.key}</span></td>${cells(s.key)}</tr>`,
    ...partsPresent
      .filter((p) => p.of === s.key)
      .map((p) =>
        p.drawn
          ? html`<tr class="part" data-part="${p.key}"><td class="indent"><i class="swatch thin" style="background:${p.color}"></i>of which ${p.label} <span class="muted mono">${p.key}</span></td>${cells(p.key)}</tr>`
          : html`<tr class="part note-row" data-part="${p.key}"><td class="indent"><i class="swatch"></i><em>${p.label}</em> <span class="muted mono">${p.key}</span> <span class="muted">(inside ${s.label}, overlaps the parts above; not drawn)</span></td>${cells(p.key, (t) => html`<em>${t}</em>`)}</tr>`,
      ),
  ]);
  const table = html`<table id="stage-table">
<thead><tr><th>stage</th>${runs.map((r) => html`<th class="num">run ${r.attempt}</th>`)}</tr></thead>
<tbody>
${tableRows}
${others.map((k) => html`<tr class="other" data-other="${k}"><td><i class="swatch"></i><span class="mono">${k}</span> <span class="muted">(not drawn: this page does not know where it lies)</span></td>${cells(k)}</tr>`)}
<tr class="total"><td><i class="swatch"></i><strong>run total</strong> <span class="muted mono">totalMs</span> <span class="muted">(wall clock from run start)</span></td>${cells('totalMs', (t) => html`<strong>${t}</strong>`)}</tr>
</tbody>
</table>`;

  return html`<div class="scroll"><svg id="stage-chart" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Stage timings per run" xmlns="http://www.w3.org/2000/svg">
${axis}
${bars}
</svg></div>
<p class="note">Each bar is one run; its segments are the stages in the order they run${partsPresent.some((p) => p.drawn) ? ', and the thin strip under a segment is what that stage\u2019s time was made of' : ''}. Queue wait comes before the run starts, so Σ can exceed the run total; with several files loading in parallel, per-file stages add up and can exceed it too.</p>
${table}`;
}

// The results as a PNG bar chart: one horizontal bar per contender (rows/s), labelled with its name and
// rate. Drawn into an RGB buffer with the bitmap font in font.ts and encoded by fast-png (pure
// JavaScript), so no browser, canvas or font file is needed.
import { encode } from 'fast-png';
import { glyph, GLYPH_HEIGHT, textWidth, ADVANCE } from './font.js';

export interface Bar {
  label: string;
  /** The bar's length; null draws no bar (a skipped or failed contender). */
  value: number | null;
  /** Text after the bar, e.g. "812,000 rows/s (0.41x)". */
  valueLabel: string;
  kind: 'reference' | 'contender' | 'invalid' | 'skipped';
}

export interface ChartInput {
  title: string;
  subtitle: string;
  bars: Bar[];
  /** Lines under the chart (method, machine, skipped contenders). */
  notes: string[];
}

type Rgb = readonly [number, number, number];
const colours: Record<Bar['kind'] | 'text' | 'muted' | 'grid' | 'background', Rgb> = {
  background: [255, 255, 255],
  text: [30, 30, 30],
  muted: [110, 110, 110],
  grid: [225, 225, 225],
  reference: [120, 144, 156],
  contender: [33, 118, 199],
  invalid: [211, 47, 47],
  skipped: [180, 180, 180],
};

class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8Array(width * height * 3).fill(255);
  }

  rect(x: number, y: number, w: number, h: number, c: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let j = y0; j < y1; j++) {
      for (let i = x0; i < x1; i++) {
        const o = (j * this.width + i) * 3;
        this.data[o] = c[0];
        this.data[o + 1] = c[1];
        this.data[o + 2] = c[2];
      }
    }
  }

  text(x: number, y: number, s: string, scale: number, c: Rgb): void {
    let cx = x;
    for (const ch of s) {
      glyph(ch).forEach((row, j) => row.forEach((on, i) => on && this.rect(cx + i * scale, y + j * scale, scale, scale, c)));
      cx += ADVANCE * scale;
    }
  }
}

/** A round step for axis ticks: 1, 2 or 5 times a power of ten, giving about `target` ticks. */
function tickStep(max: number, target = 5): number {
  const raw = max / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
}

function shortNumber(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}K`;
  return String(n);
}

export function barChartPng(input: ChartInput): Uint8Array {
  const S = 2; // body text scale
  const lineH = GLYPH_HEIGHT * S + 8;
  const margin = 24;
  const rowH = 40;
  const barH = 24;
  const labelW = Math.max(...input.bars.map((b) => textWidth(b.label, S)), 0) + 16;
  const valueW = Math.max(...input.bars.map((b) => textWidth(b.valueLabel, S)), 0) + 16;
  const width = Math.max(960, margin * 2 + labelW + 360 + valueW, ...[input.title, input.subtitle, ...input.notes].map((t) => textWidth(t, S) + margin * 2));
  const top = margin + GLYPH_HEIGHT * 3 + 10 + lineH + 14;
  const plotH = input.bars.length * rowH;
  const height = top + plotH + 8 + lineH + 12 + input.notes.length * lineH + margin;
  const canvas = new Canvas(width, height);

  canvas.text(margin, margin, input.title, 3, colours.text);
  canvas.text(margin, margin + GLYPH_HEIGHT * 3 + 10, input.subtitle, S, colours.muted);

  const x0 = margin + labelW;
  const plotW = width - x0 - margin - valueW;
  const max = Math.max(...input.bars.map((b) => b.value ?? 0), 1);
  const step = tickStep(max);
  const axisMax = Math.ceil(max / step) * step;
  for (let v = 0; v <= axisMax + step / 2; v += step) {
    const x = x0 + (v / axisMax) * plotW;
    canvas.rect(x, top - 4, 1, plotH + 8, colours.grid);
    const label = shortNumber(v);
    canvas.text(x - textWidth(label, S) / 2, top + plotH + 10, label, S, colours.muted);
  }
  canvas.rect(x0, top - 4, 2, plotH + 8, colours.text);

  input.bars.forEach((bar, i) => {
    const y = top + i * rowH + (rowH - barH) / 2;
    const textY = y + (barH - GLYPH_HEIGHT * S) / 2;
    canvas.text(x0 - 10 - textWidth(bar.label, S), textY, bar.label, S, colours.text);
    const w = bar.value === null ? 0 : Math.max(2, (bar.value / axisMax) * plotW);
    if (w > 0) canvas.rect(x0 + 2, y, w, barH, colours[bar.kind]);
    canvas.text(x0 + 2 + w + 8, textY, bar.valueLabel, S, bar.kind === 'invalid' ? colours.invalid : colours.text);
  });

  let y = top + plotH + 10 + lineH + 12;
  for (const note of input.notes) {
    canvas.text(margin, y, note, S, colours.muted);
    y += lineH;
  }
  return encode({ width, height, data: canvas.data, channels: 3, depth: 8 });
}

// Number, size, duration and date formatting for the dashboard (server-side, so dates are in UTC).
import { scaleBytes } from '../report/units.js';

export const fmtInt = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms >= 60_000) return `${Math.floor(ms / 60_000)} min ${((ms % 60_000) / 1000).toFixed(0)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(1)} ms`;
}

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  if (n < 1000) return `${n} B`;
  const { value, unit } = scaleBytes(n);
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${unit}`;
}

/** `2024-05-01 12:34:56 UTC` from an ISO timestamp. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  return `${iso.slice(0, 19).replace('T', ' ')} UTC`;
}

/** Round for an SVG attribute: two decimals are more than a screen shows. */
export const px = (n: number): string => String(Math.round(n * 100) / 100);

/** A "nice" axis step (1, 2 or 5 times a power of ten) giving about `ticks` intervals up to `max`. */
export function niceStep(max: number, ticks = 5): number {
  if (!(max > 0)) return 1;
  const rough = max / ticks;
  const pow = 10 ** Math.floor(Math.log10(rough));
  const f = rough / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

/** Short axis label: 12k, 1.5M. */
export function fmtShort(n: number): string {
  if (n >= 1e9) return `${+(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return `${+n.toFixed(1)}`;
}

/** An axis tick in milliseconds: 250 ms, 1.5 s (no spurious decimals). */
export function fmtTick(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(3)} s` : `${+ms.toFixed(3)} ms`;
}

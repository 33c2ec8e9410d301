// Sizes in decimal units (1 kB = 1000 B, as MB/s is counted), shared by the dashboard and the CLI, which
// print them with their own precision.

const UNITS = ['kB', 'MB', 'GB', 'TB'];

/** `n` bytes, 1000 or more, as a value of at least 1 in the largest unit that fits (at most TB). */
export function scaleBytes(n: number): { value: number; unit: string } {
  let value = n / 1000;
  let u = 0;
  while (value >= 1000 && u < UNITS.length - 1) {
    value /= 1000;
    u++;
  }
  return { value, unit: UNITS[u]! };
}

// Measures the stages of a run in milliseconds. Each stage is stored with the run, not only logged.
import type { Timings } from '../sql/jobRows.js';

export class StageTimer {
  private readonly start = performance.now();
  readonly timings: Timings = {};

  async time<T>(stage: keyof Timings, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(stage, performance.now() - t0);
    }
  }

  add(stage: keyof Timings, ms: number): void {
    this.timings[stage] = Math.round(((this.timings[stage] ?? 0) + ms) * 10) / 10;
  }

  /** Milliseconds since the timer started. */
  elapsed(): number {
    return performance.now() - this.start;
  }

  finish(): Timings {
    this.timings.totalMs = Math.round(this.elapsed() * 10) / 10;
    return this.timings;
  }
}

// The limits on schedules: how often one may fire (SCHEDULE_MIN_INTERVAL_SECONDS) and how many may
// exist (SCHEDULE_MAX_COUNT). A cron pattern's interval is the tightest gap between its next firings,
// computed with BullMQ's own cron strategy, so the check sees the times the scheduler will use.
import { defaultRepeatStrategy } from 'bullmq';
import { IngestError } from '../errors.js';

/**
 * How far ahead a cron pattern's firings are looked at: a gap that exists appears within a week (and in
 * the first two firings of a monthly or yearly pattern). Each firing costs the parser a walk over the
 * time in between, so the look stops at a week or at CRON_SAMPLES firings, whichever comes first.
 */
const CRON_SPAN_MS = 8 * 24 * 3600 * 1000;
const CRON_SAMPLES = 200;

/**
 * The shortest gap, in seconds, between the next firings of `pattern` from `from` (ms, default now),
 * or the first gap found below `stopBelow`. Undefined when it fires fewer than twice. Throws what the
 * cron parser throws for an invalid pattern.
 */
export function shortestCronGapSeconds(pattern: string, timezone: string | undefined, opts: { from?: number; stopBelow?: number } = {}): number | undefined {
  const from = opts.from ?? Date.now();
  const stopBelow = opts.stopBelow ?? 1;
  const repeat = { pattern, ...(timezone ? { tz: timezone } : {}) };
  const first = defaultRepeatStrategy(from, repeat);
  let previous = first;
  let shortest: number | undefined;
  for (let i = 0; i < CRON_SAMPLES && previous !== undefined; i++) {
    if (shortest !== undefined && i >= 2 && previous - first! > CRON_SPAN_MS) break;
    const next = defaultRepeatStrategy(previous, repeat);
    if (next === undefined) break;
    const gap = (next - previous) / 1000;
    shortest = shortest === undefined ? gap : Math.min(shortest, gap);
    // Enough to refuse it (or nothing fires faster than every second).
    if (shortest < stopBelow || shortest <= 1) break;
    previous = next;
  }
  return shortest;
}

/** Throws SCHEDULE_INTERVAL_TOO_SHORT when the schedule fires more often than `minimumSeconds` allows. */
export function checkScheduleInterval(
  schedule: { cron?: string; everySeconds?: number; timezone?: string },
  minimumSeconds: number,
): void {
  const field = schedule.cron !== undefined ? '/cron' : '/everySeconds';
  let seconds: number | undefined;
  if (schedule.cron !== undefined) {
    try {
      seconds = shortestCronGapSeconds(schedule.cron, schedule.timezone, { stopBelow: minimumSeconds });
    } catch (err) {
      throw new IngestError('INVALID_SPEC', `cron ${JSON.stringify(schedule.cron)} is not a valid cron pattern: ${(err as Error).message}`, { field: '/cron' });
    }
  } else {
    seconds = schedule.everySeconds;
  }
  if (seconds !== undefined && seconds < minimumSeconds) {
    throw new IngestError(
      'SCHEDULE_INTERVAL_TOO_SHORT',
      `the schedule would fire every ${seconds} s; the shortest interval allowed is ${minimumSeconds} s (SCHEDULE_MIN_INTERVAL_SECONDS)`,
      { field, intervalSeconds: seconds, minimumSeconds },
    );
  }
}

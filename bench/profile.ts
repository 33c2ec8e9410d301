// `--profile`: the service runs under V8's sampling profiler (`--cpu-prof`), one profile per timed load
// written beside the results, and the functions that took the most CPU during the load itself are
// read out of it. The profile covers the process's whole life (start-up included); a V8 profile's
// timestamps are CLOCK_MONOTONIC microseconds, the clock `process.hrtime` reads in every process on the
// machine, so the benchmark's own clock marks the load's window in the service's profile.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Now, on the clock a V8 CPU profile's timestamps use (microseconds). */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Node flags that write this load's profile as `<dir>/<name>.cpuprofile` when the process exits. */
export function profileNodeArgs(dir: string, name: string): string[] {
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`];
}

export interface ProfileEntry {
  /** Function name (or V8's pseudo-frames: `(garbage collector)`, `(program)`). */
  name: string;
  /** Script (the last two parts of its path) and line, or '' for pseudo-frames. */
  where: string;
  selfMs: number;
  /** Share of the window's CPU (idle excluded). */
  share: number;
}

export interface ProfileSummary {
  file: string;
  /** Milliseconds of the window the samples cover. */
  windowMs: number;
  /** Milliseconds of those that were not idle: the process's CPU as the profiler saw it. */
  activeMs: number;
  top: ProfileEntry[];
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function within [fromUs, toUs] (monotonic microseconds), biggest first. */
export async function summariseProfile(file: string, fromUs: number, toUs: number, top = 10): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let t = profile.startTime;
  let windowUs = 0;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's delta is the time since the previous one: the time it stands for.
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < fromUs || t > toUs) continue;
    const frame = frames.get(profile.samples[i]!)!;
    windowUs += dt;
    if (frame.functionName === '(idle)') {
      idleUs += dt;
      continue;
    }
    const where = frame.url ? `${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}@${where}`;
    const entry = selfUs.get(key) ?? { name: frame.functionName || '(anonymous)', where, us: 0 };
    entry.us += dt;
    selfUs.set(key, entry);
  }
  const activeUs = windowUs - idleUs;
  return {
    file: path.basename(file),
    windowMs: windowUs / 1000,
    activeMs: activeUs / 1000,
    top: [...selfUs.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: activeUs > 0 ? e.us / activeUs : 0 })),
  };
}

/** The first `n` entries as lines for the console. */
export function profileLines(summary: ProfileSummary, n = 5): string[] {
  return [
    `  profile ${summary.file}: ${summary.activeMs.toFixed(0)} ms of CPU sampled during the load; top ${n} by self time:`,
    ...summary.top.slice(0, n).map((e) => `    ${e.selfMs.toFixed(0).padStart(6)} ms ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name}${e.where ? ` (${e.where})` : ''}`),
  ];
}

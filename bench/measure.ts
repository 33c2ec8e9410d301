// Memory of a child process, read from /proc: its resident set sampled on a timer and its high-water
// mark (VmHWM) at the end, so a contender's peak RSS is measured from outside, in the process that does
// the work (under `tsx`, that is the node process tsx spawns, not tsx itself).
import { readdir, readFile } from 'node:fs/promises';

/** How often the sampler reads /proc/<pid>/status of a long-lived process (the service). */
export const SAMPLE_INTERVAL_MS = 200;
/**
 * The same for short-lived clients (psql, pgloader): they exit before a final VmHWM can be read, so their
 * peak is the last reading before exit, and reading often keeps that close to the true peak.
 */
export const CLIENT_SAMPLE_INTERVAL_MS = 20;

/** VmRSS and VmHWM of a process in kB, or undefined when it is gone (or this is not Linux). */
async function memoryKb(pid: number): Promise<{ rss: number; hwm: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return undefined;
  }
}

export async function childrenOf(pid: number): Promise<number[]> {
  try {
    // Every thread lists the children it forked; a node process forks from its main thread, but be thorough.
    const tasks = await readdir(`/proc/${pid}/task`);
    const found = new Set<number>();
    for (const task of tasks) {
      const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
      for (const id of text.trim().split(/\s+/)) if (id) found.add(Number(id));
    }
    return [...found];
  } catch {
    return [];
  }
}

async function commOf(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
}

/**
 * The process doing the work under `pid`: the deepest descendant named `comm` (e.g. `node` under the
 * `tsx` launcher), or `pid` itself when it has no such descendant. Waits up to `timeoutMs` for a
 * launcher to spawn its child.
 */
export async function findWorkerProcess(pid: number, comm: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let current = pid;
    for (;;) {
      const kids: number[] = [];
      for (const k of await childrenOf(current)) if ((await commOf(k)) === comm) kids.push(k);
      if (kids.length === 0) break;
      current = kids[0]!;
    }
    if (current !== pid || Date.now() > deadline) return current;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RssSampler {
  /**
   * Stops sampling; takes a last reading if the process is still there. Peak in MiB, or null when the
   * process lived too briefly to be read more than once.
   */
  stop(): Promise<number | null>;
}

/**
 * Samples VmRSS and VmHWM of `pid` every `intervalMs` (and once at once). The peak is the larger
 * of the highest VmRSS seen and the last VmHWM read: VmHWM is exact for a process still alive at stop();
 * for a process that exits between samples the peak is the last reading before it exited.
 */
export function sampleRss(pid: number, intervalMs = SAMPLE_INTERVAL_MS): RssSampler {
  let peakKb = 0;
  let readings = 0;
  let pending: Promise<void> = Promise.resolve();
  const read = (): void => {
    pending = pending.then(async () => {
      const m = await memoryKb(pid);
      if (!m || m.rss === 0) return; // gone, or a zombie waiting to be reaped
      readings += 1;
      peakKb = Math.max(peakKb, m.rss, m.hwm);
    });
  };
  read();
  const timer = setInterval(read, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      read();
      await pending;
      // One reading is the moment of spawn only: too early to say anything about the peak.
      return readings >= 2 ? peakKb / 1024 : null;
    },
  };
}

/** Clock ticks per second of /proc's CPU times (USER_HZ): 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/**
 * The parent and CPU-time fields of /proc/<pid>/stat (times in seconds), or undefined when it cannot be
 * read. `reapedChildren` counts children that exited and were waited for (and what they had reaped).
 */
async function statTimes(pid: number | 'self'): Promise<{ ppid: number; own: number; reapedChildren: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name in parentheses (which may itself hold spaces): state is the first.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
    // ppid is field 4 of the whole line; utime, stime, cutime, cstime are fields 14 to 17: 1 and 11 to 14 here.
    return { ppid: f[1]!, own: (f[11]! + f[12]!) / TICKS_PER_SECOND, reapedChildren: (f[13]! + f[14]!) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** The parent of a live process and its command name (`comm`), or undefined when it is gone or not visible here. */
export async function parentOf(pid: number): Promise<{ ppid: number; comm: string } | undefined> {
  const stat = await statTimes(pid);
  return stat && { ppid: stat.ppid, comm: await commOf(stat.ppid) };
}

/**
 * CPU seconds (user + system) of every process a live parent forked so far: the children that exited
 * and were reaped (the parent's cutime + cstime) plus the live children's own times. The difference
 * across an interval counts children that started and exited inside it too. A child that exits
 * between the two reads of one call is missed by that call (an error of that one child's time, rare).
 * The parent's own time is not counted.
 */
export async function childrenCpuSeconds(pid: number): Promise<number | undefined> {
  const parent = await statTimes(pid);
  if (!parent) return undefined;
  let live = 0;
  for (const child of await childrenOf(pid)) live += (await cpuSeconds(child)) ?? 0;
  return parent.reapedChildren + live;
}

/** User + system CPU seconds a live process has used so far; undefined when it is gone. */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  return (await statTimes(pid))?.own;
}

/**
 * User + system CPU seconds of this process's children that have exited and been waited for: the
 * difference across one short-lived child's life (psql, pgloader) is that child's CPU time.
 */
export async function reapedChildrenCpuSeconds(): Promise<number> {
  return (await statTimes('self'))?.reapedChildren ?? 0;
}

/** CPU seconds a live process uses from now until the returned function is called (null if it went). */
export async function cpuMeter(pid: number | undefined): Promise<() => Promise<number | null>> {
  const before = pid === undefined ? undefined : await cpuSeconds(pid);
  return async () => {
    if (pid === undefined || before === undefined) return null;
    const after = await cpuSeconds(pid);
    return after === undefined ? null : after - before;
  };
}

// How long the service took to come back from each fault, from the jobs' own end times. A fault's
// recovery is the time from its start until every soak job that was running when it began had ended
// (succeeded, failed or cancelled); with no job running then, until the next job that succeeded. The soak
// prints the longest, naming the fault.

export interface FaultMark {
  name: string;
  /** When the fault began and when its injection returned (ms since the epoch). */
  at: number;
  end: number;
  /** The soak's jobs running when it began. */
  inFlight: string[];
}

export interface Ended {
  status: string;
  finishedAt: Date | null;
}

export interface Recovery {
  fault: FaultMark;
  ms: number;
  /** What the figure measured: the jobs in flight, or the next success. */
  by: string;
}

export function recoveries(marks: FaultMark[], jobs: Map<string, Ended>): Recovery[] {
  const successes = [...jobs.values()].filter((j) => j.status === 'succeeded' && j.finishedAt).map((j) => j.finishedAt!.getTime()).sort((a, b) => a - b);
  const out: Recovery[] = [];
  for (const fault of marks) {
    const ends = fault.inFlight.map((id) => jobs.get(id)?.finishedAt?.getTime()).filter((t): t is number => t !== undefined);
    if (fault.inFlight.length > 0 && ends.length === fault.inFlight.length) {
      out.push({ fault, ms: Math.max(0, Math.max(...ends) - fault.at), by: `the ${ends.length} jobs running at it all ended` });
      continue;
    }
    const next = successes.find((t) => t > fault.end);
    if (next !== undefined) out.push({ fault, ms: next - fault.at, by: 'the next job succeeded' });
  }
  return out;
}

/** One line: the longest recovery and, per kind, the longest of that kind. */
export function recoveryLine(list: Recovery[], startedAt: number): string {
  if (list.length === 0) return 'no recovery measured (no fault, or no job ended after one)';
  const longest = list.reduce((a, b) => (b.ms > a.ms ? b : a));
  const byKind = new Map<string, number>();
  for (const r of list) byKind.set(r.fault.name, Math.max(byKind.get(r.fault.name) ?? 0, r.ms));
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return `longest recovery ${s(longest.ms)} (${longest.fault.name} at +${s(longest.fault.at - startedAt)}: ${longest.by}); by kind: ${[...byKind].map(([k, ms]) => `${k} ${s(ms)}`).join(', ')}`;
}

// The child processes a benchmark has running right now, so an interrupted run (SIGINT, SIGTERM) can
// end them instead of leaving them loading into a table nobody will drop.

const kills = new Set<() => Promise<void>>();

/** Registers how to end one child at once; returns the function that unregisters it. */
export function track(kill: () => Promise<void>): () => void {
  kills.add(kill);
  return () => kills.delete(kill);
}

/** Ends every tracked child (SIGKILL). */
export async function killAll(): Promise<void> {
  await Promise.all([...kills].map((kill) => kill().catch(() => {})));
}

// Starts the local Citus cluster (src/dev/citusLocal.ts) once per test process and returns the
// coordinator URL, or a reason to skip when the citus extension is not installed here (a failure under
// CI: see requirement.ts).
import { localCitusUp } from '../../src/dev/citusLocal.js';
import { missing } from './requirement.js';

let cached: { url?: string; skip?: string } | undefined;

export function citusCluster(): { url?: string; skip?: string } {
  if (cached) return cached;
  const cluster = localCitusUp();
  cached = cluster.missing !== undefined
    ? { skip: missing(`${cluster.missing}: the Citus tests cannot run (README: "Tests")`) }
    : { url: cluster.url };
  return cached;
}

// Starts the local Citus cluster (src/dev/citusLocal.ts) once per test process and returns the
// coordinator URL, or a reason to skip when the citus extension is not installed here.
import { localCitusUp } from '../../src/dev/citusLocal.js';

let cached: { url?: string; skip?: string } | undefined;

export function citusCluster(): { url?: string; skip?: string } {
  if (cached) return cached;
  const cluster = localCitusUp();
  if (cluster.missing !== undefined) {
    cached = { skip: `${cluster.missing}: Citus tests skipped (see scripts/citus-local.sh)` };
    console.log(`# ${cached.skip}`);
  } else {
    cached = { url: cluster.url };
  }
  return cached;
}

// Starts the local Citus cluster (scripts/citus-local.sh) once per test process and returns the
// coordinator URL, or a reason to skip when the citus extension is not installed here (a failure under
// CI: see requirement.ts).
import { spawnSync } from 'node:child_process';
import { missing } from './requirement.js';

let cached: { url?: string; skip?: string } | undefined;

export function citusCluster(): { url?: string; skip?: string } {
  if (cached) return cached;
  const res = spawnSync('bash', ['scripts/citus-local.sh', 'up'], { encoding: 'utf8', timeout: 120_000 });
  if (res.status === 3) {
    cached = {
      skip: missing('the citus extension is not installed in this PostgreSQL, so the Citus tests cannot run (README: "Citus")'),
    };
  } else if (res.status !== 0) {
    throw new Error(`scripts/citus-local.sh up failed (exit ${res.status}): ${res.stderr}`);
  } else {
    cached = { url: res.stdout.trim().split('\n').pop()! };
  }
  return cached;
}

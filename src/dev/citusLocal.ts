// The local Citus cluster for development (scripts/citus-local.sh: a coordinator and two workers on
// loopback), started from code: the demo's --citus and the tests use it. Starting is idempotent, so a
// cluster already up is only checked.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The script, found next to this module's source tree (the demo and the tests run from a checkout). */
const script = fileURLToPath(new URL('../../scripts/citus-local.sh', import.meta.url));

/** The script's exit code when PostgreSQL has no citus extension to start a cluster with. */
const NO_CITUS_EXIT = 3;

export type LocalCitus =
  /** The cluster is up: the coordinator's connection string. */
  | { url: string; missing?: undefined }
  /** The citus extension is not installed here: why, in one line. */
  | { url?: undefined; missing: string };

/**
 * Starts the local cluster (or finds it running) and returns the coordinator URL; `missing` when the
 * citus extension is not installed. Any other failure throws with the script's diagnostics.
 * Options: `timeoutMs` (default 180000: the script waits up to 180 s for a concurrent start's lock).
 */
export function localCitusUp(options: { timeoutMs?: number } = {}): LocalCitus {
  const res = spawnSync('bash', [script, 'up'], { encoding: 'utf8', timeout: options.timeoutMs ?? 180_000 });
  if (res.status === NO_CITUS_EXIT) {
    const why = res.stderr.trim().split('\n').pop() || 'citus extension not installed in this PostgreSQL';
    return { missing: `${why} (pg_config on PATH, or PG_CONFIG, names a PostgreSQL without citus.so)` };
  }
  if (res.status !== 0) {
    const how = res.error ? res.error.message : `exit ${res.status ?? res.signal}`;
    throw new Error(`scripts/citus-local.sh up failed (${how}):\n${res.stderr.trim()}`);
  }
  const url = res.stdout.trim().split('\n').pop();
  if (!url) throw new Error('scripts/citus-local.sh up printed no coordinator URL');
  return { url };
}

// The local Citus cluster for development (scripts/citus-local.sh: a coordinator and two workers on
// loopback), started from code: the demo's --citus and the tests use it. Starting is idempotent, so a
// cluster already up is only checked. `env` picks another cluster (CITUS_LOCAL_DIR and the CITUS_*_PORT
// variables): a fault test that stops nodes runs one of its own.
import { execFile, spawnSync, type SpawnSyncReturns } from 'node:child_process';
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

export interface LocalCitusOptions {
  /** Default 180000: the script waits up to 180 s for a concurrent start's lock. */
  timeoutMs?: number;
  /** The script's settings (CITUS_LOCAL_DIR, CITUS_COORD_PORT, ...) over this process's environment. */
  env?: Record<string, string>;
}

function settings(options: LocalCitusOptions) {
  return { encoding: 'utf8' as const, timeout: options.timeoutMs ?? 180_000, env: { ...process.env, ...options.env } };
}

function failed(args: string[], how: string, stderr: string): Error {
  return new Error(`scripts/citus-local.sh ${args.join(' ')} failed (${how}):\n${stderr.trim()}`);
}

/**
 * Starts the local cluster (or finds it running) and returns the coordinator URL; `missing` when the
 * citus extension is not installed. Any other failure throws with the script's diagnostics.
 */
export function localCitusUp(options: LocalCitusOptions = {}): LocalCitus {
  const res: SpawnSyncReturns<string> = spawnSync('bash', [script, 'up'], settings(options));
  if (res.status === NO_CITUS_EXIT) {
    const why = res.stderr.trim().split('\n').pop() || 'citus extension not installed in this PostgreSQL';
    return { missing: `${why} (pg_config on PATH, or PG_CONFIG, names a PostgreSQL without citus.so)` };
  }
  if (res.status !== 0) throw failed(['up'], res.error ? res.error.message : `exit ${res.status ?? res.signal}`, res.stderr);
  const url = res.stdout.trim().split('\n').pop();
  if (!url) throw new Error('scripts/citus-local.sh up printed no coordinator URL');
  return { url };
}

/**
 * Runs another of the script's commands on a cluster, without blocking this process's event loop (a
 * service in it keeps loading): `down --purge`, `stop-node worker1 immediate`, `start-node worker1`.
 * Rejects with the script's diagnostics when it fails.
 */
export function localCitus(args: string[], options: LocalCitusOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [script, ...args], settings(options), (err, _stdout, stderr) => (err ? reject(failed(args, err.message, stderr)) : resolve()));
  });
}

// `citus-ingest load` without --api: starts the whole service (API and worker) inside this process,
// configured from the environment like `npm start` but listening on a free port, so one command loads
// a file with nothing else running. Its worker serves QUEUE_NAME like any other worker would.
import { Redis } from 'ioredis';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { createLogger } from '../log.js';
import { startService } from '../service.js';
import type { CliEnv } from './env.js';
import { CliError, usage } from './exit.js';
import { withTimeout } from '../timeout.js';

export interface LocalService {
  url: string;
  stop(): Promise<void>;
}

/** How long starting may take before we say what is probably down. */
const startTimeoutMs = 20_000;

/**
 * Redis must answer before the service starts: BullMQ waits for it forever, so a Redis that is down
 * would otherwise show as a submit that hangs.
 */
async function checkRedis(config: Config): Promise<void> {
  const redis = new Redis(config.redisUrl, { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let first: Error | undefined;
  redis.on('error', (err: Error) => (first ??= err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    const why = (first ?? (err as Error)).message;
    throw new CliError(`cannot reach Redis at REDIS_URL (${why}); start it, point REDIS_URL at one, or use --api <url>`);
  } finally {
    redis.disconnect();
  }
}

export async function startLocalService(env: CliEnv): Promise<LocalService> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw usage(err.message);
    throw err;
  }
  // Only errors unless LOG_LEVEL asks for more, and on stderr: stdout holds the report (or the JSON).
  config = { ...config, port: 0, logLevel: env.logLevelSet ? config.logLevel : 'error' };
  await checkRedis(config);
  const log = createLogger(config.logLevel, process.stderr);
  try {
    const svc = await withTimeout(
      startService({ role: 'all', config, log }),
      startTimeoutMs,
      () => new CliError(`the in-process service did not start within ${startTimeoutMs / 1000} s; is Redis reachable at REDIS_URL? (or use --api to load through a running service)`),
    );
    return { url: svc.url!, stop: () => svc.stop() };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(
      `cannot start the in-process service: ${(err as Error).message}\n` +
        '  check DATABASE_URL, REDIS_URL and S3_ENDPOINT, or use --api <url> to load through a running service',
    );
  }
}

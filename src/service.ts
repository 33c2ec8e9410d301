// Wires the components a role needs and stops them in reverse order. Used by the entry point, the demo
// and the tests, so all three run the same service.
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from './config.js';
import { createPool, type Pool } from './db/pool.js';
import { migrate } from './db/migrate.js';
import { createLogger, describeConfig, type Logger } from './log.js';
import { createQueue, type LoadQueue } from './queue/queue.js';
import { createSources } from './sources/registry.js';
import { buildApp, buildMetricsApp } from './app.js';
import type { Services } from './services.js';

export type { Services } from './services.js';
import { collectStartupGarbage } from './handbuilt/youngGc.js';
import { startLoadWorker, type LoadWorker } from '../workers/loadWorker.js';
import { startNotifyWorker } from '../workers/notifyWorker.js';
import { withTimeout } from './timeout.js';

export type Role = 'api' | 'worker' | 'all';

export interface RunningService extends Services {
  app?: FastifyInstance;
  worker?: LoadWorker;
  /** The API's base URL when the API role runs. */
  url?: string;
  /** The worker role's metrics server (METRICS_PORT), when it runs. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  role: Role;
  config?: Config;
  log?: Logger;
}

export async function startService(opts: StartOptions): Promise<RunningService> {
  const config = opts.config ?? loadConfig();
  const log = opts.log ?? createLogger(config.logLevel);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch((err) => log.error({ err }, 'stop failed'));
    stops.length = 0;
  };
  log.info({ role: opts.role, settings: describeConfig(config) }, 'starting');
  try {
    const pool = createPool(config.databaseUrl, { max: config.workerConcurrency * 2 + 4, poolMode: config.databasePoolMode });
    stops.push(() => pool.end());
    await migrate(pool);
    const queue = createQueue(config);
    stops.push(() => queue.close());
    // Connected before anything uses it: a queue closed while still connecting rejects its pending
    // commands with nobody to hear them. Redis that does not answer stops the start with its name.
    await withTimeout(queue.waitUntilReady(), 10_000, () => new Error('Redis at REDIS_URL did not answer within 10 s'));
    const sources = createSources(config);
    stops.push(() => sources.close());
    const services: Services = { config, pool, queue, sources, log };
    const running: RunningService = { ...services, stop: stopAll };

    if (opts.role === 'worker' || opts.role === 'all') {
      if (config.notifySecret === undefined) {
        log.warn('NOTIFY_SECRET is not set: completion callbacks (notify.url) go out unsigned, and receivers cannot tell them from forgeries');
      }
      const notifier = await startNotifyWorker(services);
      stops.push(() => notifier.close());
      const worker = await startLoadWorker(services);
      stops.push(() => worker.close());
      running.worker = worker;
      // Alone, a worker serves its own counters; with the API in the process, the API serves them.
      if (opts.role === 'worker' && config.metricsPort !== undefined) {
        const metricsApp = await buildMetricsApp(services);
        await metricsApp.listen({ port: config.metricsPort, host: config.host });
        stops.push(() => metricsApp.close());
        running.metricsUrl = listenUrl(config.host, metricsApp, config.metricsPort);
        log.info({ url: running.metricsUrl }, 'worker metrics listening');
      }
    }
    if (opts.role === 'api' || opts.role === 'all') {
      const app = await buildApp(services);
      await app.listen({ port: config.port, host: config.host });
      stops.push(() => app.close());
      running.app = app;
      running.url = listenUrl(config.host, app, config.port);
      log.info({ url: running.url }, 'API listening');
    }
    // Start-up's garbage is collected now, not in a worker's first load (a process with --expose-gc).
    if (running.worker) collectStartupGarbage();
    return running;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The URL a listening server answers on (the port the OS chose when asked for port 0). */
function listenUrl(host: string, app: FastifyInstance, fallbackPort: number): string {
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : fallbackPort;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

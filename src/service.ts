// Wires the components a role needs and stops them in reverse order. Used by the entry point, the demo
// and the tests, so all three run the same service.
import type { S3Client } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from './config.js';
import { createPool, type Pool } from './db/pool.js';
import { migrate } from './db/migrate.js';
import { createLogger, type Logger } from './log.js';
import { createQueue, type LoadQueue } from './queue/queue.js';
import { createS3Client } from './sources/s3.js';
import { buildApp } from './app.js';
import { startLoadWorker, type LoadWorker } from '../workers/loadWorker.js';

export interface Services {
  config: Config;
  pool: Pool;
  queue: LoadQueue;
  s3: S3Client;
  log: Logger;
}

export type Role = 'api' | 'worker' | 'all';

export interface RunningService extends Services {
  app?: FastifyInstance;
  worker?: LoadWorker;
  /** The API's base URL when the API role runs. */
  url?: string;
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
  try {
    const pool = createPool(config.databaseUrl, { max: config.workerConcurrency * 2 + 4 });
    stops.push(() => pool.end());
    await migrate(pool);
    const queue = createQueue(config);
    stops.push(() => queue.close());
    const s3 = createS3Client(config);
    stops.push(async () => s3.destroy());
    const services: Services = { config, pool, queue, s3, log };
    const running: RunningService = { ...services, stop: stopAll };

    if (opts.role === 'worker' || opts.role === 'all') {
      const worker = await startLoadWorker(services);
      stops.push(() => worker.close());
      running.worker = worker;
    }
    if (opts.role === 'api' || opts.role === 'all') {
      const app = await buildApp(services);
      await app.listen({ port: config.port, host: config.host });
      stops.push(() => app.close());
      running.app = app;
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      running.url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
      log.info({ url: running.url }, 'API listening');
    }
    return running;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

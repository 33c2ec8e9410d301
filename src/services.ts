// What the API and the workers share once the service has started: its settings, the database pool,
// the queue, the sources and the logger. Built by service.ts; routes and workers take it.
import type { Config } from './config.js';
import type { Pool } from './db/pool.js';
import type { Logger } from './log.js';
import type { LoadQueue } from './queue/queue.js';
import type { Sources } from './sources/registry.js';

export interface Services {
  config: Config;
  pool: Pool;
  queue: LoadQueue;
  /** Where bytes come from: one source per configured scheme. */
  sources: Sources;
  log: Logger;
}

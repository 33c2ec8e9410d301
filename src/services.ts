// What the API and the workers share once the service has started: its settings, the database pool,
// the queue, object storage and the logger. Built by service.ts; routes and workers take it.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config.js';
import type { Pool } from './db/pool.js';
import type { Logger } from './log.js';
import type { LoadQueue } from './queue/queue.js';

export interface Services {
  config: Config;
  pool: Pool;
  queue: LoadQueue;
  s3: S3Client;
  log: Logger;
}

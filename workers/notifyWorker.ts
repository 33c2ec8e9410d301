// The callback worker: a BullMQ Worker on the notify queue with its own concurrency
// (NOTIFY_CONCURRENCY), so receivers that answer slowly or never hold callback slots, not load slots.
import { Worker, UnrecoverableError } from 'bullmq';
import type { Config } from '../src/config.js';
import type { Pool } from '../src/db/pool.js';
import { IngestError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { sendNotification } from '../src/notify.js';
import { notifyQueueName, redisConnection } from '../src/queue/queue.js';
import type { JobPayloads } from '../src/queue/catalogue.js';

export interface NotifyWorker {
  worker: Worker<JobPayloads['notify'], unknown, 'notify'>;
  close(): Promise<void>;
}

export async function startNotifyWorker(deps: { config: Config; pool: Pool; log: Logger }): Promise<NotifyWorker> {
  const { config, pool, log } = deps;
  const worker = new Worker<JobPayloads['notify'], unknown, 'notify'>(
    notifyQueueName(config),
    async (job) => {
      if (job.name !== 'notify') throw new UnrecoverableError(`no handler for job name ${job.name} on the notify queue`);
      try {
        const status = await sendNotification(pool, job.data.jobId, { secret: config.notifySecret, allowedHosts: config.notifyAllowedHosts });
        log.info({ jobId: job.data.jobId, status }, 'completion callback delivered');
        return status;
      } catch (err) {
        // A URL refused at delivery (its host now resolves to a private address) stays refused.
        if (err instanceof IngestError && !err.retryable) throw new UnrecoverableError(`${err.code}: ${err.message}`);
        throw err;
      }
    },
    { connection: redisConnection(config), prefix: config.queuePrefix, concurrency: config.notifyConcurrency, autorun: false },
  );
  worker.on('error', (err) => log.error({ err }, 'notify worker error'));
  worker.on('failed', (job, err) => log.warn({ jobId: job?.data.jobId, attempt: job?.attemptsMade, err: err.message }, 'completion callback failed'));
  await worker.waitUntilReady();
  // A rejected run() is logged, as BullMQ's own autorun reports it: unhandled, it would end the process.
  worker.run().catch((err: unknown) => {
    if (!worker.closing) log.error({ err }, 'notify worker stopped taking jobs');
  });
  log.info({ queue: notifyQueueName(config), concurrency: config.notifyConcurrency }, 'notify worker started');
  return {
    worker,
    async close() {
      // A delivery in flight ends within NOTIFY_TIMEOUT_MS; an unfinished one is retried by the next worker.
      await worker.close();
    },
  };
}

// The BullMQ queue: its connection, its default job options, and how a stored job is enqueued.
import { Queue, type ConnectionOptions } from 'bullmq';
import type { Config } from '../config.js';
import type { JobName, JobPayloads } from './catalogue.js';
import { traceCarrier } from '../telemetry/jobTrace.js';

export type LoadQueue = Queue<JobPayloads[JobName], unknown, JobName>;
/** Completion callbacks: a queue of their own, so their workers and retries never take a load's slot. */
export type NotifyQueue = Queue<JobPayloads['notify'], unknown, 'notify'>;

export function redisConnection(config: Pick<Config, 'redisUrl'>): ConnectionOptions {
  const url = new URL(config.redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    // Workers block on Redis; BullMQ requires unlimited retries per request.
    maxRetriesPerRequest: null,
  };
}

export function createQueue(config: Config): LoadQueue {
  return new Queue(config.queueName, {
    connection: redisConnection(config),
    prefix: config.queuePrefix,
    defaultJobOptions: {
      attempts: config.jobAttempts,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}

/** The callback queue's name: the load queue's with `-notify`. */
export function notifyQueueName(config: Pick<Config, 'queueName'>): string {
  return `${config.queueName}-notify`;
}

export function createNotifyQueue(config: Config): NotifyQueue {
  return new Queue(notifyQueueName(config), {
    connection: redisConnection(config),
    prefix: config.queuePrefix,
    defaultJobOptions: { removeOnComplete: { age: 24 * 3600, count: 10_000 }, removeOnFail: { age: 7 * 24 * 3600 } },
  });
}

/**
 * Puts a stored job on the queue; the BullMQ job id is the job's id, so enqueuing twice is harmless. The
 * job carries the caller's trace context, if any, so the worker's spans join the caller's trace.
 */
export async function enqueueLoad(queue: LoadQueue, jobId: string): Promise<void> {
  await queue.add('load', { jobId, ...traceCarrier() }, { jobId });
}

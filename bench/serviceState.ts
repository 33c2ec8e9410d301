// What the service contenders need around them: a reachable Redis before the first run, and afterwards
// no trace of the benchmark's queue: its BullMQ keys obliterated and its job rows (with their runs)
// deleted from the ingest schema, so tests sharing the database never see them.
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { createQueue } from '../src/queue/queue.js';
import type { Target } from './target.js';

export async function reachRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`cannot reach Redis at ${url} (${(err as Error).message}); start it or set REDIS_URL`);
  } finally {
    redis.disconnect();
  }
}

export async function cleanUpServiceRuns(target: Target, redisUrl: string, queueName: string): Promise<void> {
  const queue = createQueue(loadConfig({ REDIS_URL: redisUrl, QUEUE_NAME: queueName }));
  try {
    await queue.obliterate({ force: true });
  } catch {
    // nothing was queued, or Redis is gone: nothing to clean
  } finally {
    await queue.close().catch(() => {});
  }
  await target.db.query('DELETE FROM ingest.jobs WHERE queue = $1', [queueName]).catch(() => {});
}

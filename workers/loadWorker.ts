// The worker role: a BullMQ Worker running loads, a reconciler that re-enqueues jobs PostgreSQL still
// holds as unfinished (Redis may lose its data), and a graceful stop that lets running loads finish
// for a while and then rolls them back.
import os from 'node:os';
import { Worker, UnrecoverableError, type Job as BullJob } from 'bullmq';
import type { Sources } from '../src/sources/registry.js';
import type { Config } from '../src/config.js';
import type { Pool } from '../src/db/pool.js';
import { IngestError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { jobNames, type JobName, type JobPayloads } from '../src/queue/catalogue.js';
import { createNotifyQueue, enqueueLoad, redisConnection, type LoadQueue, type NotifyQueue } from '../src/queue/queue.js';
import { runJob } from '../src/load/runJob.js';
import { EntryNodePools } from '../src/sink/entryNodes.js';
import { Semaphore } from '../src/load/semaphore.js';
import { enqueueNotify } from '../src/notify.js';
import { submitJob } from '../src/jobs/submit.js';
import { getJobRow } from '../src/sql/getJob.js';
import { getSchedule } from '../src/sql/schedules.js';
import { unfinishedJobs } from '../src/sql/unfinishedJobs.js';
import { pollWatch } from '../src/watches/poll.js';
import { guardStrayErrors, withinJob } from './strayErrors.js';
import { inJobSpan } from '../src/telemetry/jobTrace.js';
import { trackWorkerJob, workerStarted } from '../src/metrics.js';

type Handler = (job: BullJob<JobPayloads[JobName], unknown, JobName>, controller: AbortController) => Promise<unknown>;

/** The reason BullMQ's cancellation carries when the worker's stop runs out of time. */
const SHUTDOWN_REASON = 'shutdown';

/** A finished job with a notify.url gets its callback queued. */
async function notifyIfFinished(pool: Pool, queue: NotifyQueue, jobId: string): Promise<void> {
  const row = await getJobRow(pool, jobId);
  if (row?.spec.notify && ['succeeded', 'failed', 'cancelled'].includes(row.status)) await enqueueNotify(queue, jobId);
}

export interface LoadWorker {
  worker: Worker<JobPayloads[JobName], unknown, JobName>;
  /** Re-enqueues unfinished jobs missing from Redis; returns how many were enqueued. */
  reconcile(): Promise<number>;
  close(): Promise<void>;
}

export interface LoadWorkerDeps {
  config: Config;
  pool: Pool;
  sources: Sources;
  queue: LoadQueue;
  log: Logger;
}

export async function startLoadWorker(deps: LoadWorkerDeps): Promise<LoadWorker> {
  const { config, pool, sources, queue, log } = deps;
  const workerId = `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const objectSlots = new Semaphore(config.workerMaxObjects);
  // One pool per Citus node for loads entering at every node, as large as DATABASE_URL's (service.ts).
  const entryNodes = new EntryNodePools({ databaseUrl: config.databaseUrl, citusNodeUrls: config.citusNodeUrls, max: pool.options.max, poolMode: config.databasePoolMode });
  const notifyQueue = createNotifyQueue(config);
  // Connected before anything can close it: a queue closed while connecting rejects its pending
  // commands with nobody to hear them.
  await notifyQueue.waitUntilReady();

  const handlers: Record<JobName, Handler> = {
    load: async (job, controller) => {
      const { jobId } = job.data as JobPayloads['load'];
      try {
        return await runJob(
          { pool, sources, log, workerId, progressIntervalMs: config.progressIntervalMs, allowedSchemas: config.targetAllowedSchemas, objectSlots, recordMaxBytes: config.recordMaxBytes, entryNodes },
          jobId,
          { attemptsMade: job.attemptsMade, attempts: job.opts.attempts ?? 1 },
          controller,
        );
      } catch (err) {
        if (err instanceof IngestError && !err.retryable) throw new UnrecoverableError(`${err.code}: ${err.message}`);
        throw err;
      } finally {
        await notifyIfFinished(pool, notifyQueue, jobId).catch((err) => log.warn({ err, jobId }, 'could not queue the completion callback'));
      }
    },
    notify: async (job) => {
      // Queued here by an older version: callbacks belong to the notify queue and its own workers.
      const { jobId } = job.data as JobPayloads['notify'];
      await enqueueNotify(notifyQueue, jobId);
      return 'moved to the notify queue';
    },
    tick: async (job) => {
      const { schedule: name } = job.data as JobPayloads['tick'];
      const schedule = await getSchedule(pool, name);
      if (!schedule) return 'schedule deleted';
      // The tick's own id makes a redelivered tick return the job it already made.
      const { row } = await submitJob({ pool, queue, config, log, sources }, schedule.spec, { idempotencyKey: `schedule:${name}:${job.id}`, schedule: name });
      log.info({ schedule: name, jobId: row.id }, 'schedule fired');
      return row.id;
    },
    poll: async (job, controller) => {
      const { watch } = job.data as JobPayloads['poll'];
      return pollWatch({ pool, queue, config, log, sources }, watch, controller.signal);
    },
  };
  for (const name of jobNames) {
    if (!handlers[name]) throw new Error(`no handler for job name ${name}`);
  }

  const worker = new Worker<JobPayloads[JobName], unknown, JobName>(
    config.queueName,
    // Three parameters: BullMQ then hands each job a signal that cancelAllJobs() aborts (the stop's deadline).
    // The job's own controller follows it, and is what an error escaping the job aborts (strayErrors.ts).
    (job, _token, signal) => {
      const controller = new AbortController();
      const onStop = (): void => controller.abort(new IngestError('SHUTTING_DOWN', 'the worker is shutting down; the load was rolled back and will run again'));
      if (signal?.aborted) onStop();
      signal?.addEventListener('abort', onStop, { once: true });
      // The job's span continues the trace it was queued in: the run's PostgreSQL, Redis, file and stage spans nest under it.
      const run = () => trackWorkerJob(inJobSpan(job, () => handlers[job.name](job, controller)));
      return withinJob(controller, run).finally(() => signal?.removeEventListener('abort', onStop));
    },
    {
      connection: redisConnection(config),
      prefix: config.queuePrefix,
      concurrency: config.workerConcurrency,
      // Loads can run for an hour: the lock is renewed every lockDuration/2 while the process lives, and
      // a job whose worker died is taken back after one lockDuration without renewal.
      lockDuration: config.lockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      maxStalledCount: 5,
      autorun: false,
    },
  );
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => log.debug({ jobId: job?.id, err: err.message }, 'queue attempt failed'));
  // Connected before anything can close it: a worker closed while its connections still initialise has
  // them fail with "Connection is closed" as an 'error' event nobody hears (BullMQ's RedisConnection),
  // which ends the process. A stop right after the start did that (test/notify.test.ts, under load).
  await worker.waitUntilReady();

  const reconcile = async (): Promise<number> => {
    let enqueued = 0;
    for (const id of await unfinishedJobs(pool, config.queueName, Math.min(5_000, config.lockDurationMs))) {
      const existing = await queue.getJob(id);
      if (existing) {
        const state = await existing.getState();
        if (state !== 'completed' && state !== 'failed' && state !== 'unknown') continue;
        await existing.remove().catch(() => {});
      }
      await enqueueLoad(queue, id);
      enqueued += 1;
    }
    if (enqueued > 0) log.info({ enqueued }, 'reconciler re-enqueued unfinished jobs');
    return enqueued;
  };

  await reconcile().catch((err) => log.error({ err }, 'reconciler failed'));
  const timer = setInterval(() => {
    reconcile().catch((err) => log.error({ err }, 'reconciler failed'));
  }, config.reconcileIntervalMs);
  timer.unref();

  // Installed once the worker can start, so a start that fails leaves no listener behind.
  const unguard = guardStrayErrors(log);
  // A rejected run() is logged, as BullMQ's own autorun reports it: unhandled, it would end the process.
  worker.run().catch((err: unknown) => {
    if (!worker.closing) log.error({ err }, 'load worker stopped taking jobs');
  });
  workerStarted(config.workerConcurrency);
  log.info({ workerId, queue: config.queueName, concurrency: config.workerConcurrency }, 'worker started');

  return {
    worker,
    reconcile,
    async close() {
      clearInterval(timer);
      const closing = worker.close();
      const deadline = setTimeout(() => worker.cancelAllJobs(SHUTDOWN_REASON), config.shutdownTimeoutMs);
      try {
        await closing;
      } finally {
        clearTimeout(deadline);
        unguard();
        await notifyQueue.close();
        await entryNodes.close();
      }
    },
  };
}

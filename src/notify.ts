// Completion callbacks: a job with notify.url gets its final state POSTed there, signed with an
// HMAC-SHA256 of the body under NOTIFY_SECRET (header X-Citus-Ingest-Signature: sha256=<hex>). The
// POST is a BullMQ job of its own, so its retries (with backoff) survive worker restarts.
import { createHmac } from 'node:crypto';
import type { Pool } from './db/pool.js';
import { getJob } from './sql/getJob.js';
import type { LoadQueue } from './queue/queue.js';

export const NOTIFY_ATTEMPTS = 6;

/** Queues the callback of a finished job, once per job. */
export async function enqueueNotify(queue: LoadQueue, jobId: string): Promise<void> {
  await queue.add('notify', { jobId }, { jobId: `notify-${jobId}`, attempts: NOTIFY_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 } });
}

export function sign(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POSTs the job's final state; throws on anything but a 2xx answer, so BullMQ retries. */
export async function sendNotification(pool: Pool, jobId: string, secret: string | undefined): Promise<number | undefined> {
  const job = await getJob(pool, jobId);
  const url = job?.spec.notify?.url;
  if (!job || !url) return undefined;
  const body = JSON.stringify({
    event: 'job.finished',
    job: {
      id: job.id,
      status: job.status,
      target: job.target,
      sourceUrl: job.sourceUrl,
      error: job.error,
      result: job.result,
      createdAt: job.createdAt,
      finishedAt: job.finishedAt,
      runs: job.runs.map((r) => ({
        attempt: r.attempt, status: r.status, rowsLoaded: r.rowsLoaded, rowsRejected: r.rowsRejected,
        rowsPerSecond: r.rowsPerSecond, timings: r.timings, error: r.error,
      })),
    },
  });
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-citus-ingest-event': 'job.finished',
      'x-citus-ingest-job': job.id,
      ...(secret ? { 'x-citus-ingest-signature': sign(body, secret) } : {}),
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`notify.url ${url} answered ${res.status}`);
  return res.status;
}

// Completion callbacks: a job with notify.url gets its final state POSTed there, signed with an
// HMAC-SHA256 of the body under NOTIFY_SECRET (header X-Citus-Ingest-Signature: sha256=<hex>). The
// body carries the delivery's `timestamp` (Unix seconds), so a receiver can refuse replays (docs/api.md,
// "Completion callbacks"). Callbacks have a BullMQ queue of their own, so their retries (with backoff)
// survive worker restarts and a slow receiver never holds a load's slot.
import { createHmac } from 'node:crypto';
import type { Pool } from './db/pool.js';
import { OutboundClient } from './net/outbound/client.js';
import { callbackPolicy, parseNotifyUrl, type Resolver } from './notifyTarget.js';
import { getJob } from './sql/getJob.js';
import type { NotifyQueue } from './queue/queue.js';

export const NOTIFY_ATTEMPTS = 6;
/** How long one delivery may take, connection to last byte of the answer. */
export const NOTIFY_TIMEOUT_MS = 10_000;

/** Queues the callback of a finished job, once per job. */
export async function enqueueNotify(queue: NotifyQueue, jobId: string): Promise<void> {
  await queue.add('notify', { jobId }, { jobId: `notify-${jobId}`, attempts: NOTIFY_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 } });
}

export function sign(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface NotifyOptions extends DeliveryOptions {
  secret: string | undefined;
  /** Delivery time, Unix seconds; default now. */
  now?: () => number;
}

export interface DeliveryOptions {
  /** NOTIFY_ALLOWED_HOSTS. */
  allowedHosts: readonly string[];
  /** Host names to addresses, each checked before the connect. Default: the system resolver. */
  resolve?: Resolver;
}

/**
 * POSTs the job's final state (deliver). Throws NOTIFY_URL_FORBIDDEN (not retried) for a refused URL,
 * and a plain error (retried) on anything but a 2xx answer.
 */
export async function sendNotification(pool: Pool, jobId: string, opts: NotifyOptions): Promise<number | undefined> {
  const job = await getJob(pool, jobId);
  const url = job?.spec.notify?.url;
  if (!job || !url) return undefined;
  const timestamp = opts.now?.() ?? Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    event: 'job.finished',
    timestamp,
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
  return deliver(url, body, {
    'content-type': 'application/json',
    'x-citus-ingest-event': 'job.finished',
    'x-citus-ingest-job': job.id,
    'x-citus-ingest-timestamp': String(timestamp),
    ...(opts.secret ? { 'x-citus-ingest-signature': sign(body, opts.secret) } : {}),
  }, opts);
}

/**
 * One POST of `body` to notify.url through the outbound client under the callbacks' policy: the URL is
 * checked again (NOTIFY_ALLOWED_HOSTS may have changed since submit) and the connection goes to the
 * address checked at connect time. A redirect is not followed. Returns the 2xx status; throws
 * NOTIFY_URL_FORBIDDEN for a refused URL or address, a plain Error for any other outcome.
 */
export async function deliver(raw: string, body: string, headers: Record<string, string>, opts: DeliveryOptions): Promise<number> {
  const url = parseNotifyUrl(raw);
  const client = new OutboundClient(callbackPolicy(opts.allowedHosts, opts.resolve), { idleTimeoutMs: NOTIFY_TIMEOUT_MS });
  const where = `notify.url host ${url.host}`;
  try {
    const res = await client.request(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS) });
    try {
      for await (const _chunk of res.body);
    } catch (err) {
      throw new Error(`${where}: the answer was cut off (${(err as Error).message})`, { cause: err });
    }
    if (res.status >= 300 && res.status < 400) throw new Error(`${where} answered ${res.status}; redirects are not followed`);
    if (res.status < 200 || res.status >= 300) throw new Error(`${where} answered ${res.status}`);
    return res.status;
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError') throw new Error(`${where}: no answer within ${NOTIFY_TIMEOUT_MS} ms`, { cause: err });
    throw err;
  } finally {
    await client.close();
  }
}

// Completion callbacks: a job with notify.url gets its final state POSTed there, signed with an
// HMAC-SHA256 of the body under NOTIFY_SECRET (header X-Citus-Ingest-Signature: sha256=<hex>). The
// body carries the delivery's `timestamp` (Unix seconds), so a receiver can refuse replays (docs/api.md,
// "Completion callbacks"). Callbacks have a BullMQ queue of their own, so their retries (with backoff)
// survive worker restarts and a slow receiver never holds a load's slot.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Pool } from './db/pool.js';
import { checkNotifyUrl } from './notifyTarget.js';
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

export interface NotifyOptions {
  secret: string | undefined;
  allowedHosts: readonly string[];
  /** Delivery time, Unix seconds; default now. */
  now?: () => number;
}

/**
 * POSTs the job's final state. The URL is checked again (DNS may have changed since submit) and the
 * connection goes to the address just checked; a redirect is not followed. Throws NOTIFY_URL_FORBIDDEN
 * (not retried) for a refused URL, and a plain error (retried) on anything but a 2xx answer.
 */
export async function sendNotification(pool: Pool, jobId: string, opts: NotifyOptions): Promise<number | undefined> {
  const job = await getJob(pool, jobId);
  const url = job?.spec.notify?.url;
  if (!job || !url) return undefined;
  const target = await checkNotifyUrl(url, opts.allowedHosts, {
    unresolved: (host, err) => new Error(`notify.url host ${host} does not resolve (${(err as Error).message})`),
  });
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
  const status = await post(target.url, target.host, target.address, body, {
    'content-type': 'application/json',
    'x-citus-ingest-event': 'job.finished',
    'x-citus-ingest-job': job.id,
    'x-citus-ingest-timestamp': String(timestamp),
    ...(opts.secret ? { 'x-citus-ingest-signature': sign(body, opts.secret) } : {}),
  });
  if (status >= 300 && status < 400) throw new Error(`notify.url host ${target.host} answered ${status}; redirects are not followed`);
  if (status < 200 || status >= 300) throw new Error(`notify.url host ${target.host} answered ${status}`);
  return status;
}

/** One POST to `address`, with the URL's host in the Host header and for TLS (SNI and the certificate). */
function post(url: URL, host: string, address: string, body: string, headers: Record<string, string>): Promise<number> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      {
        method: 'POST',
        host: address,
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, host: url.host, 'content-length': String(Buffer.byteLength(body)) },
        ...(url.protocol === 'https:' && isIP(host) === 0 ? { servername: host } : {}),
        agent: false,
        signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
        res.once('close', () => {
          if (!res.complete) reject(new Error(`notify.url host ${host}: the answer was cut off`));
        });
      },
    );
    req.once('error', (err) => reject(new Error(`notify.url host ${host}: ${err.message}`)));
    req.end(body);
  });
}

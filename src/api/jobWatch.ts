// Waiting for jobs to end without polling: one connection LISTENs on the channel that ingest.jobs'
// trigger (migrations/0008) notifies when a job reaches succeeded, failed or cancelled, and wakes
// whoever waits for that job. If the connection is lost, waiters still wake on their own timer, so a
// wait is only ever slower, never stuck; the next wait connects again.
import pg from 'pg';
import type { Logger } from '../log.js';

export const JOB_ENDED_CHANNEL = 'citus_ingest_job_ended';

export interface Watching {
  /** Resolves at the next notification for the job, or after `ms`, or when `signal` aborts. */
  next(ms: number, signal?: AbortSignal): Promise<void>;
  /** Stops watching (always call it). */
  dispose(): void;
}

export class JobWatch {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  /** Per job id, the wake-up of each waiter. */
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    /** Where to LISTEN; undefined: nowhere, every wait ends on its timer. */
    private readonly databaseUrl: string | undefined,
    private readonly log: Logger,
  ) {}

  /** Starts watching `id`: a notification that comes after this call is not missed. */
  async watch(id: string): Promise<Watching> {
    await this.listen();
    let wake: (() => void) | undefined;
    const set = this.waiters.get(id) ?? new Set();
    this.waiters.set(id, set);
    let notified = false;
    const onNotify = (): void => {
      notified = true;
      wake?.();
    };
    set.add(onNotify);
    return {
      next: (ms, signal) =>
        new Promise<void>((resolve) => {
          if (notified || signal?.aborted) {
            notified = false;
            resolve();
            return;
          }
          const done = (): void => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            wake = undefined;
            notified = false;
            resolve();
          };
          const timer = setTimeout(done, ms);
          signal?.addEventListener('abort', done, { once: true });
          wake = done;
        }),
      dispose: () => {
        set.delete(onNotify);
        if (set.size === 0) this.waiters.delete(id);
        wake?.();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.waiters.values()) for (const wake of set) wake();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  /** Connects and LISTENs once; a failure is logged and leaves waiters on their timers. */
  private listen(): Promise<void> {
    const url = this.databaseUrl;
    if (this.client || this.closed || url === undefined) return Promise.resolve();
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: url, application_name: 'citus-ingest-watch' });
      const drop = (err?: Error): void => {
        if (this.client !== client) return;
        this.client = undefined;
        if (err && !this.closed) this.log.warn({ err }, 'job watch connection lost; waits fall back to their timers');
        client.end().catch(() => {});
      };
      client.on('error', drop);
      client.on('end', () => drop());
      client.on('notification', (msg) => {
        if (msg.channel !== JOB_ENDED_CHANNEL || !msg.payload) return;
        for (const wake of this.waiters.get(msg.payload) ?? []) wake();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${JOB_ENDED_CHANNEL}`);
        if (this.closed) {
          await client.end();
          return;
        }
        this.client = client;
      } catch (err) {
        this.log.warn({ err }, 'job watch could not LISTEN; waits fall back to their timers');
        await client.end().catch(() => {});
      }
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }
}

// Follows one job: polls GET /jobs/:id until the job is final, feeding each answer to a progress view.
// A server that stops answering for a moment (restart, network) is polled again until `patienceMs`
// runs out; an error answer (404, 400) ends the follow at once.
import { ApiError, type ApiClient, type JobWithRuns } from './client.js';
import { CliError } from './exit.js';
import type { ProgressView } from './progress.js';

export const finalStatuses = new Set(['succeeded', 'failed', 'cancelled']);

export interface FollowOptions {
  /** Time between polls. Default 200 ms. */
  intervalMs?: number;
  /** How long the API may stay unreachable before following gives up. Default 30 s. */
  patienceMs?: number;
  /** Aborting it stops following (the job itself goes on). */
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Resolves with the final job, or with the last job seen when `signal` aborts. */
export async function follow(client: ApiClient, id: string, view: ProgressView, opts: FollowOptions = {}): Promise<JobWithRuns> {
  const interval = opts.intervalMs ?? 200;
  const patience = opts.patienceMs ?? 30_000;
  let failingSince: number | undefined;
  let last: JobWithRuns | undefined;
  for (;;) {
    try {
      last = await client.job(id);
      failingSince = undefined;
      view.update(last);
      if (finalStatuses.has(last.status)) return last;
    } catch (err) {
      const transient = (err instanceof CliError) || (err instanceof ApiError && err.status >= 500);
      if (!transient) throw err;
      failingSince ??= Date.now();
      if (Date.now() - failingSince > patience) throw err;
    }
    if (opts.signal?.aborted) {
      if (last) return last;
      throw new CliError(`stopped before job ${id} was read`);
    }
    await sleep(interval, opts.signal);
  }
}

// `citus-ingest jobs`: the newest jobs as a table. The list route returns jobs without their runs, so
// the rows/s of each finished job's last run is read from GET /jobs/:id, a few requests at a time.
import type { JobStatus, Run } from '../sql/jobRows.js';
import { ApiClient } from './client.js';
import { jobsTable } from './format.js';
import type { Io } from './io.js';

export interface JobsOptions {
  api: string;
  token?: string | undefined;
  json: boolean;
  status?: JobStatus | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** Maps `items` through `fn`, at most `width` at once, keeping the order. */
async function mapLimited<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return results;
}

export async function jobsCommand(opts: JobsOptions, io: Io): Promise<number> {
  const client = new ApiClient({ baseUrl: opts.api, token: opts.token });
  const page = await client.jobs({ status: opts.status, limit: opts.limit, cursor: opts.cursor });
  if (opts.json) {
    io.out(JSON.stringify(page, null, 2));
    return 0;
  }
  if (page.jobs.length === 0) {
    io.out(opts.status ? `no ${opts.status} jobs` : 'no jobs');
    return 0;
  }
  const rows = await mapLimited(page.jobs, 8, async (job) => {
    if (job.status === 'queued') return { job };
    // A job deleted between the list and this read still gets its line, without rates.
    const full = await client.job(job.id).catch(() => undefined);
    const lastRun: Run | undefined = full?.runs[full.runs.length - 1];
    return { job, lastRun };
  });
  io.out(jobsTable(rows));
  if (page.nextCursor) io.err(`more jobs: citus-ingest jobs --cursor ${page.nextCursor}`);
  return 0;
}

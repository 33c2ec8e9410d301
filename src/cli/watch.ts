// `citus-ingest watch <id>`, and the following part of `load`: show progress until the job is final,
// then print the report. Ctrl-C during `load` cancels the job (a second Ctrl-C stops waiting); during
// `watch` it only stops watching, since the job is not this command's to cancel.
import { ApiError, ApiClient, type JobWithRuns } from './client.js';
import { CliError, ExitCode } from './exit.js';
import { follow } from './follow.js';
import type { Io } from './io.js';
import { createView, viewModeFor } from './progress.js';
import { outcome } from './report.js';

export interface FollowJobOptions {
  json: boolean;
  /** What Ctrl-C does: cancel the job (load) or stop watching it (watch). */
  onInterrupt: 'cancel' | 'detach';
}

/** Follows job `id` to its end and returns the final job; Ctrl-C as `onInterrupt` says. */
export async function followJob(client: ApiClient, id: string, io: Io, opts: FollowJobOptions): Promise<JobWithRuns> {
  const view = createView({ mode: viewModeFor(io.progress, opts.json), stream: io.progress });
  const stop = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (opts.onInterrupt === 'detach' || interrupts > 1) {
      stop.abort();
      return;
    }
    view.note('cancelling; Ctrl-C again to stop waiting');
    client.cancel(id).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'JOB_NOT_CANCELLABLE') return;
      io.err(`could not cancel job ${id}: ${(err as Error).message}`);
    });
  };
  process.on('SIGINT', onSigint);
  let job: JobWithRuns;
  try {
    job = await follow(client, id, view, { signal: stop.signal });
  } finally {
    process.off('SIGINT', onSigint);
    view.stop();
  }
  if (stop.signal.aborted && !['succeeded', 'failed', 'cancelled'].includes(job.status)) {
    const how = opts.onInterrupt === 'detach' ? 'stopped watching' : 'stopped waiting for';
    throw new CliError(`${how} job ${id} (${job.status}); it goes on: citus-ingest watch ${id}`, ExitCode.interrupted);
  }
  return job;
}

/** Prints the final job (as JSON, or as the report) and returns the exit code. */
export function printFinal(job: JobWithRuns, io: Io, json: boolean): number {
  const o = outcome(job);
  if (json) io.out(JSON.stringify(job, null, 2));
  else {
    io.out(o.out);
    if (o.err) io.err(o.err);
  }
  return o.exitCode;
}

export interface WatchOptions {
  api: string;
  token?: string | undefined;
  json: boolean;
}

export async function watchCommand(id: string, opts: WatchOptions, io: Io): Promise<number> {
  const client = new ApiClient({ baseUrl: opts.api, token: opts.token });
  const job = await followJob(client, id, io, { json: opts.json, onInterrupt: 'detach' });
  return printFinal(job, io, opts.json);
}

// A load's stray errors. An exception thrown outside every promise chain (in a stream's callback, an
// event listener, a timer) would end the process, and with it every load the worker runs. Thrown while
// a job runs (in the async context the job's processor started), it fails that job instead: the job's
// controller aborts with the error, which rolls its load back as a cancel does, and the run records
// the error. An exception no job owns still ends the process, as Node would: nothing says what it
// left half done.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../src/log.js';

const runningJob = new AsyncLocalStorage<AbortController>();
let guards = 0;
let log: Logger | undefined;

/** Runs a job's processor so that an error escaping it fails the job (when a guard is installed). */
export function withinJob<T>(controller: AbortController, run: () => Promise<T>): Promise<T> {
  return runningJob.run(controller, run);
}

function onStrayError(err: unknown, origin: string): void {
  const job = runningJob.getStore();
  if (job) {
    log?.error({ err, origin }, job.signal.aborted ? 'an error escaped a load already ending' : 'an error escaped a load; failing its job');
    if (!job.signal.aborted) job.abort(err);
    return;
  }
  // Not a load's: Node's own behaviour, unless another listener (a test runner) takes it.
  if (process.listenerCount('uncaughtException') > 1) return;
  log?.fatal({ err, origin }, 'uncaught exception outside any job');
  console.error(err);
  process.exit(1);
}

/** Installs the guard for as long as a worker runs; returns the function that removes it. */
export function guardStrayErrors(workerLog: Logger): () => void {
  log = workerLog;
  if (guards++ === 0) process.on('uncaughtException', onStrayError);
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    if (--guards === 0) process.off('uncaughtException', onStrayError);
  };
}

// Every BullMQ job name this service puts on its queues, with its payload. A worker refuses to start
// unless it has a handler for each name of its queue. Loads and schedule ticks share the load queue;
// callbacks have the notify queue (a `notify` found on the load queue, queued by an older version, is
// moved there).

import type { TraceCarrier } from '../telemetry/jobTrace.js';

export interface JobPayloads {
  /**
   * Load the files a stored job names. The spec itself is read from ingest.jobs. A job queued inside a
   * trace carries its context (telemetry/jobTrace.ts), which the worker's run span continues.
   */
  load: { jobId: string } & TraceCarrier;
  /** POST a finished job's final state to its notify.url (retried with backoff), on the notify queue. */
  notify: { jobId: string };
  /** A schedule fired: store a job from its spec and queue it. */
  tick: { schedule: string };
  /** A watch's pollSeconds came round: list its prefix and start what its events missed. */
  poll: { watch: string };
}

export type JobName = keyof JobPayloads;
export const jobNames: readonly JobName[] = ['load', 'notify', 'tick', 'poll'];

// Every BullMQ job name this service puts on its queue, with its payload. A worker refuses to start
// unless it has a handler for each name.

export interface JobPayloads {
  /** Load the files a stored job names. The spec itself is read from ingest.jobs. */
  load: { jobId: string };
}

export type JobName = keyof JobPayloads;
export const jobNames: readonly JobName[] = ['load'];

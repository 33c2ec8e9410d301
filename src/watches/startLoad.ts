// Turns a watch's decision to load into an ordinary job, through the same submit path as POST /jobs
// (validation, allow-lists). The Idempotency-Key is derived from the watch and the object's identity
// (key and version, the ETag a listing reports too), so the same event twice, events arriving at
// once, and a listing that finds what an event already started all come back to one job.
import { createHash } from 'node:crypto';
import { IngestError } from '../errors.js';
import { submitJob, type SubmitDeps } from '../jobs/submit.js';
import type { JobRow } from '../sql/jobRows.js';
import { recordWatchJob } from '../sql/watchesJobs.js';
import type { WatchRow } from '../sql/watches.js';
import { watchJobSpec } from './watchSpec.js';

export interface LoadToStart {
  /** The object, or the directory holding the marker. */
  url: string;
  /** The object's key (or the marker's) and its version: the identity that makes it one job. */
  objectKey: string;
  version: string;
  /** What found it: 'event:s3', 'event:gcs', 'event:azure' or 'listing'. */
  foundBy: string;
}

export interface StartedJob {
  jobId: string;
  /** False when an earlier event (or listing) had started it already. */
  created: boolean;
}

/** The most jobs one object version gets after jobs that found it missing (each one takes a delivery or a listing). */
const MAX_AFTER_MISSING = 20;

/** The Idempotency-Key of the job a watch starts for one object (or marker) version. */
export function watchIdempotencyKey(watch: Pick<WatchRow, 'queue' | 'name'>, load: Pick<LoadToStart, 'url' | 'objectKey' | 'version'>): string {
  const identity = createHash('sha256').update(JSON.stringify([load.url, load.objectKey, load.version])).digest('hex').slice(0, 40);
  return `watch:${watch.queue}:${watch.name}:${identity}`;
}

/**
 * A job that failed because the object was not there (the event came before the object, or after it
 * was deleted): a later event or listing of the same version starts a new job, keyed after it.
 */
export function foundMissing(row: Pick<JobRow, 'status' | 'error'>): boolean {
  return row.status === 'failed' && row.error?.code === 'SOURCE_NOT_FOUND';
}

export async function startWatchLoad(deps: SubmitDeps, watch: WatchRow, load: LoadToStart): Promise<StartedJob> {
  const spec = watchJobSpec(watch, load.url);
  const base = watchIdempotencyKey(watch, load);
  let key = base;
  let started: StartedJob | undefined;
  for (let i = 0; !started; i++) {
    try {
      const { row, created } = await submitJob(deps, spec, { idempotencyKey: key });
      if (created || !foundMissing(row) || i === MAX_AFTER_MISSING) started = { jobId: row.id, created };
      else key = `${base}:after:${row.id}`;
    } catch (err) {
      // The watch's job spec was changed since this object started its job: that job stands.
      if (!(err instanceof IngestError && err.code === 'IDEMPOTENCY_CONFLICT')) throw err;
      started = { jobId: String(err.details?.jobId), created: false };
    }
  }
  // Recorded every time (a no-op once it is there): a delivery that failed after submitting records it on the retry.
  await recordWatchJob(deps.pool, watch.queue, watch.name, { jobId: started.jobId, objectUrl: load.url, foundBy: load.foundBy });
  return started;
}

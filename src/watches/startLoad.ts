// Turns a watch's decision to load into an ordinary job, through the same submit path as POST /jobs
// (validation, allow-lists). The Idempotency-Key is derived from the watch and the object's identity
// (key and version, the ETag a listing reports too), so the same event twice, events arriving at
// once, and a listing that finds what an event already started all come back to one job.
import { createHash } from 'node:crypto';
import { IngestError } from '../errors.js';
import { submitJob, type SubmitDeps } from '../jobs/submit.js';
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

/** The Idempotency-Key of the job a watch starts for one object (or marker) version. */
export function watchIdempotencyKey(watch: Pick<WatchRow, 'queue' | 'name'>, load: Pick<LoadToStart, 'url' | 'objectKey' | 'version'>): string {
  const identity = createHash('sha256').update(JSON.stringify([load.url, load.objectKey, load.version])).digest('hex').slice(0, 40);
  return `watch:${watch.queue}:${watch.name}:${identity}`;
}

export async function startWatchLoad(deps: SubmitDeps, watch: WatchRow, load: LoadToStart): Promise<StartedJob> {
  let started: StartedJob;
  try {
    const { row, created } = await submitJob(deps, watchJobSpec(watch, load.url), { idempotencyKey: watchIdempotencyKey(watch, load) });
    started = { jobId: row.id, created };
  } catch (err) {
    // The watch's job spec was changed since this object started its job: that job stands.
    if (err instanceof IngestError && err.code === 'IDEMPOTENCY_CONFLICT') started = { jobId: String(err.details?.jobId), created: false };
    else throw err;
  }
  // Recorded every time (a no-op once it is there): a delivery that failed after submitting still records it on the retry.
  await recordWatchJob(deps.pool, watch.queue, watch.name, { jobId: started.jobId, objectUrl: load.url, foundBy: load.foundBy });
  return started;
}

// A watch's listing: every pollSeconds, a BullMQ job scheduler (the schedules' machinery) fires a `poll`
// job that lists the watch's prefix and starts the loads its events would have started. Whatever an
// event started already has the same Idempotency-Key (key and version), so only objects whose
// notification was lost start anything; their jobs say a listing found them.
import { countWatchJob } from '../metrics.js';
import type { SubmitDeps } from '../jobs/submit.js';
import { sourceFor } from '../sources/resolveSources.js';
import { splitContainer } from '../sources/azure/url.js';
import type { ObjectInfo, ObjectRef } from '../sources/source.js';
import { getWatch, type WatchRow } from '../sql/watches.js';
import { addListingJobs } from '../sql/watchesCounters.js';
import { knownIdempotencyKeys } from '../sql/watchesJobs.js';
import { decide, watchRef } from './match.js';
import type { ObjectEvent } from './objectEvent.js';
import { startWatchLoad, watchIdempotencyKey, type LoadToStart } from './startLoad.js';

/** The BullMQ job scheduler id of a watch's listing (schedules use their bare name, which has no ':'). */
export function pollSchedulerId(name: string): string {
  return `watch:${name}`;
}

/** A listed object as the event its notification would have been. */
function asEvent(ref: ObjectRef, object: ObjectInfo): ObjectEvent {
  const { account, container } = ref.scheme === 'az' ? splitContainer(ref) : { account: undefined, container: ref.container };
  return { scheme: ref.scheme as ObjectEvent['scheme'], bucket: container, ...(account ? { account } : {}), key: object.key, created: true, version: object.version, type: 'listing' };
}

/** Lists the watch's prefix once; returns how many jobs it started. */
export async function pollWatch(deps: SubmitDeps, name: string, signal: AbortSignal): Promise<number> {
  const watch = await getWatch(deps.pool, deps.config.queueName, name);
  if (!watch) return 0;
  const ref = watchRef(watch);
  let started = 0;
  for await (const page of sourceFor(deps.sources, watch.prefixUrl).list(ref, signal)) {
    const loads: LoadToStart[] = [];
    for (const object of page) {
      const decision = decide(watch, asEvent(ref, object));
      if (decision.kind === 'start') loads.push({ url: decision.url, objectKey: decision.objectKey, version: object.version, foundBy: 'listing' });
    }
    started += await startUnknown(deps, watch, loads);
  }
  if (started > 0) {
    await addListingJobs(deps.pool, watch.queue, watch.name, started);
    deps.log.info({ watch: name, started }, 'a watch\'s listing started loads its events had not');
  }
  return started;
}

/** Starts the loads no job holds yet (one query for the page, then a submit for each new one). */
async function startUnknown(deps: SubmitDeps, watch: WatchRow, loads: LoadToStart[]): Promise<number> {
  const known = await knownIdempotencyKeys(deps.pool, loads.map((load) => watchIdempotencyKey(watch, load)));
  let started = 0;
  for (const load of loads) {
    if (known.has(watchIdempotencyKey(watch, load))) continue;
    const job = await startWatchLoad(deps, watch, load);
    if (!job.created) continue;
    countWatchJob(watch.name, 'listing');
    started += 1;
  }
  return started;
}

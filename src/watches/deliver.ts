// One delivery of events, from any provider: each event is decided by every watch that could hold it,
// the loads they call for are started (one job per object or marker, however often the event comes),
// and each watch's counters and the metrics take what happened.
import { IngestError } from '../errors.js';
import { countUnwatchedEvent, countWatchEvent, countWatchJob } from '../metrics.js';
import type { SubmitDeps } from '../jobs/submit.js';
import { addToWatchCounters, type WatchTally } from '../sql/watchesCounters.js';
import type { WatchRow } from '../sql/watches.js';
import { decide } from './match.js';
import type { ObjectEvent, Provider } from './objectEvent.js';
import { startWatchLoad, type StartedJob } from './startLoad.js';

export interface DeliveryResult {
  /** Events in the delivery. */
  received: number;
  /** Events at least one watch matched. */
  matched: number;
  /** Events no watch matched (outside every prefix, not a creation, bookkeeping). */
  ignored: number;
  /** The jobs the events call for; `created` is false for one an earlier delivery started. */
  jobs: Array<{ watch: string; id: string; created: boolean; url: string }>;
  /** Loads a watch called for whose job the submit path refused (only present when there are some). */
  refused?: Array<{ watch: string; url: string; error: ReturnType<IngestError['toJSON']> }>;
}

/**
 * Applies `events` to `watches` (every watch of the queue, or the one a secret URL names). With
 * `addressed`, an event outside the watch's prefix is counted as that watch's ignored event.
 */
export async function deliverEvents(deps: SubmitDeps, provider: Provider, events: ObjectEvent[], watches: WatchRow[], addressed: boolean): Promise<DeliveryResult> {
  const result: DeliveryResult = { received: events.length, matched: 0, ignored: 0, jobs: [] };
  const tallies = new Map<string, WatchTally>();
  const tally = (watch: WatchRow, event: ObjectEvent): WatchTally => {
    let t = tallies.get(watch.name);
    if (!t) tallies.set(watch.name, (t = { received: 0, matched: 0, ignored: 0, jobsStarted: 0, lastEvent: {} }));
    t.received += 1;
    t.lastEvent = { provider, type: event.type, bucket: event.bucket, key: event.key, version: event.version };
    return t;
  };
  for (const event of events) {
    let matchedByAny = false;
    let heldByAny = false;
    for (const watch of watches) {
      const decision = decide(watch, event);
      if (decision.kind === 'outside' && !addressed) continue;
      const t = tally(watch, event);
      heldByAny ||= decision.kind !== 'outside';
      if (decision.kind === 'outside' || decision.kind === 'ignored') {
        t.ignored += 1;
        countWatchEvent(watch.name, 'ignored');
        continue;
      }
      t.matched += 1;
      matchedByAny = true;
      countWatchEvent(watch.name, 'matched');
      if (decision.kind !== 'start') continue;
      let job: StartedJob;
      try {
        job = await startWatchLoad(deps, watch, { url: decision.url, objectKey: decision.objectKey, version: event.version, foundBy: `event:${provider}` });
      } catch (err) {
        // The spec no longer passes (an allow-list, a type or the table changed since the watch was
        // made): a sender retrying the event changes nothing, and other watches still get theirs.
        if (!(err instanceof IngestError) || err.retryable) throw err;
        deps.log.warn({ watch: watch.name, url: decision.url, err: err.toJSON() }, 'a watch could not start its job');
        t.lastEvent = { ...t.lastEvent, refused: err.toJSON() };
        (result.refused ??= []).push({ watch: watch.name, url: decision.url, error: err.toJSON() });
        continue;
      }
      result.jobs.push({ watch: watch.name, id: job.jobId, created: job.created, url: decision.url });
      if (job.created) {
        t.jobsStarted += 1;
        countWatchJob(watch.name, `event:${provider}`);
      }
    }
    if (matchedByAny) result.matched += 1;
    else {
      result.ignored += 1;
      if (!heldByAny) countUnwatchedEvent(provider);
    }
  }
  for (const [name, t] of tallies) await addToWatchCounters(deps.pool, deps.config.queueName, name, t);
  return result;
}

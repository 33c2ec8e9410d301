// Adds what one delivery of events did to a watch's counters, and keeps the last event it received.
import type { Pool } from '../db/pool.js';

export interface WatchTally {
  received: number;
  matched: number;
  ignored: number;
  jobsStarted: number;
  lastEvent: Record<string, unknown>;
}

export async function addToWatchCounters(pool: Pool, queue: string, name: string, t: WatchTally): Promise<void> {
  await pool.query(
    `UPDATE ingest.watches SET events_received = events_received + $3, events_matched = events_matched + $4,
            events_ignored = events_ignored + $5, jobs_started = jobs_started + $6,
            last_event_at = clock_timestamp(), last_event = $7
      WHERE queue = $1 AND name = $2`,
    [queue, name, t.received, t.matched, t.ignored, t.jobsStarted, JSON.stringify(t.lastEvent)],
  );
}

/** Adds jobs a watch's listing started (a listing is not an event: the event counters stay). */
export async function addListingJobs(pool: Pool, queue: string, name: string, jobs: number): Promise<void> {
  await pool.query('UPDATE ingest.watches SET jobs_started = jobs_started + $3 WHERE queue = $1 AND name = $2', [queue, name, jobs]);
}

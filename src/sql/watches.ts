// Stored watches (ingest.watches): create or replace, read, list, delete. The counters are written by
// watchesCounters.ts, the jobs a watch started by watchesJobs.ts.
import type { Pool } from '../db/pool.js';
import type { JobSpecInput } from '../jobs/spec.js';

export type WatchTrigger = 'object' | 'marker';

export interface WatchRow {
  queue: string;
  name: string;
  prefixUrl: string;
  trigger: WatchTrigger;
  /** The marker's name for trigger "marker" (Spark's _SUCCESS by default); null for "object". */
  marker: string | null;
  /** The job spec each load gets, without source.url. */
  spec: Omit<JobSpecInput, 'source'> & { source?: Omit<JobSpecInput['source'], 'url'> };
  secretSha256: string;
  pollSeconds: number | null;
  eventsReceived: number;
  eventsMatched: number;
  eventsIgnored: number;
  jobsStarted: number;
  lastEventAt: string | null;
  lastEvent: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

export type NewWatch = Pick<WatchRow, 'queue' | 'name' | 'prefixUrl' | 'trigger' | 'marker' | 'spec' | 'secretSha256' | 'pollSeconds'>;

function fromRow(r: Record<string, any>): WatchRow {
  return {
    queue: r.queue, name: r.name, prefixUrl: r.prefix_url, trigger: r.trigger, marker: r.marker, spec: r.spec,
    secretSha256: r.secret_sha256, pollSeconds: r.poll_seconds,
    eventsReceived: r.events_received, eventsMatched: r.events_matched, eventsIgnored: r.events_ignored, jobsStarted: r.jobs_started,
    lastEventAt: r.last_event_at ? r.last_event_at.toISOString() : null, lastEvent: r.last_event,
    createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
  };
}

/**
 * Creates the watch, or replaces its definition. The counters stay; so does the secret, unless
 * `replaceSecret` (the request named a new one). `created` says which it was.
 */
export async function upsertWatch(pool: Pool, w: NewWatch, replaceSecret: boolean): Promise<{ row: WatchRow; created: boolean }> {
  const { rows } = await pool.query(
    `INSERT INTO ingest.watches (queue, name, prefix_url, trigger, marker, spec, secret_sha256, poll_seconds)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (queue, name) DO UPDATE SET prefix_url = excluded.prefix_url, trigger = excluded.trigger, marker = excluded.marker,
            spec = excluded.spec, poll_seconds = excluded.poll_seconds, updated_at = clock_timestamp(),
            secret_sha256 = CASE WHEN $9 THEN excluded.secret_sha256 ELSE ingest.watches.secret_sha256 END
     RETURNING *, (xmax = 0) AS created`,
    [w.queue, w.name, w.prefixUrl, w.trigger, w.marker, JSON.stringify(w.spec), w.secretSha256, w.pollSeconds, replaceSecret],
  );
  return { row: fromRow(rows[0]), created: rows[0].created };
}

export async function getWatch(pool: Pool, queue: string, name: string): Promise<WatchRow | undefined> {
  const { rows } = await pool.query('SELECT * FROM ingest.watches WHERE queue = $1 AND name = $2', [queue, name]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function listWatches(pool: Pool, queue: string): Promise<WatchRow[]> {
  const { rows } = await pool.query('SELECT * FROM ingest.watches WHERE queue = $1 ORDER BY name', [queue]);
  return rows.map(fromRow);
}

export async function deleteWatch(pool: Pool, queue: string, name: string): Promise<boolean> {
  const res = await pool.query('DELETE FROM ingest.watches WHERE queue = $1 AND name = $2', [queue, name]);
  return res.rowCount === 1;
}

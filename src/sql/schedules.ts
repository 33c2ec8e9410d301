// Stored schedules (ingest.schedules).
import type { Pool, PoolClient } from '../db/pool.js';
import { inTransaction } from '../db/transaction.js';
import type { JobSpec } from '../jobs/spec.js';

export interface ScheduleRow {
  name: string;
  queue: string;
  cron: string | null;
  everySeconds: number | null;
  timezone: string | null;
  spec: JobSpec;
  createdAt: string;
  updatedAt: string;
}

function fromRow(r: Record<string, any>): ScheduleRow {
  return {
    name: r.name, queue: r.queue, cron: r.cron, everySeconds: r.every_seconds, timezone: r.timezone, spec: r.spec,
    createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
  };
}

export async function upsertSchedule(pool: Pool | PoolClient, s: Omit<ScheduleRow, 'createdAt' | 'updatedAt'>): Promise<{ row: ScheduleRow; created: boolean }> {
  const { rows } = await pool.query(
    `INSERT INTO ingest.schedules (name, queue, cron, every_seconds, timezone, spec) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (name) DO UPDATE SET queue = excluded.queue, cron = excluded.cron, every_seconds = excluded.every_seconds,
            timezone = excluded.timezone, spec = excluded.spec, updated_at = clock_timestamp()
     RETURNING *, (xmax = 0) AS created`,
    [s.name, s.queue, s.cron, s.everySeconds, s.timezone, JSON.stringify(s.spec)],
  );
  return { row: fromRow(rows[0]), created: rows[0].created };
}

export async function getSchedule(pool: Pool, name: string): Promise<ScheduleRow | undefined> {
  const { rows } = await pool.query('SELECT * FROM ingest.schedules WHERE name = $1', [name]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function listSchedules(pool: Pool, queue: string): Promise<ScheduleRow[]> {
  const { rows } = await pool.query('SELECT * FROM ingest.schedules WHERE queue = $1 ORDER BY name', [queue]);
  return rows.map(fromRow);
}

export async function deleteSchedule(pool: Pool, name: string): Promise<boolean> {
  const res = await pool.query('DELETE FROM ingest.schedules WHERE name = $1', [name]);
  return res.rowCount === 1;
}

/**
 * Runs `fn` holding the lock that serialises schedule creation, so the count it checks is still true
 * when it inserts (two requests at once cannot both take the last place under SCHEDULE_MAX_COUNT).
 */
export async function withSchedulesLocked<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('citus-ingest:schedules'))`);
    return fn(client);
  });
}

/** How many schedules the queue holds, not counting `except` (the one being updated). */
export async function countSchedules(db: Pool | PoolClient, queue: string, except: string): Promise<number> {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM ingest.schedules WHERE queue = $1 AND name <> $2', [queue, except]);
  return rows[0].n;
}

// Applies migrations/NNNN_*.sql in order, in one transaction under a transaction-scoped advisory lock so
// that processes starting together do not race, directly or through a pooler. Applied files are
// recorded in ingest.migrations.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Pool } from './pool.js';
import { inTransaction } from './transaction.js';

import { existsSync } from 'node:fs';

// migrations/ sits at the package root: two levels above this file when run from src/, three from dist/src/.
const migrationsDir = ['../../migrations/', '../../../migrations/']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((dir) => existsSync(dir)) ?? fileURLToPath(new URL('../../migrations/', import.meta.url));
// Any fixed 64-bit number, shared by every process of this service.
const MIGRATION_LOCK_KEY = 7_245_001_337;

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export async function readMigrations(dir = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => ({
      id: Number(file.slice(0, 4)),
      name: file,
      sql: await readFile(path.join(dir, file), 'utf8'),
    })),
  );
}

/**
 * Applies every pending migration; returns the names applied by this call. Everything runs in one
 * transaction holding a transaction-scoped advisory lock, so it is safe behind a pooler in transaction
 * mode (a session lock could be taken on one server connection and released on another) and a second
 * process waits for the first to commit, then finds nothing left to do. A failing migration rolls back
 * the whole call: the database stays at the last call's state.
 */
export async function migrate(pool: Pool): Promise<string[]> {
  const migrations = await readMigrations();
  const applied: string[] = [];
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query('CREATE SCHEMA IF NOT EXISTS ingest');
    await client.query(
      `CREATE TABLE IF NOT EXISTS ingest.migrations (
         id integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ id: number }>('SELECT id FROM ingest.migrations');
    const done = new Set(rows.map((r) => r.id));
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO ingest.migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
      } catch (err) {
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.name);
    }
  });
  return applied;
}

/** Migrations not yet applied to the database (all of them when none ran); used by /readyz. */
export async function pendingMigrations(pool: Pool): Promise<string[]> {
  const migrations = await readMigrations();
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('ingest.migrations')::text AS t");
  if (exists.rows[0]?.t == null) return migrations.map((m) => m.name);
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM ingest.migrations');
  const done = new Set(rows.map((r) => r.id));
  return migrations.filter((m) => !done.has(m.id)).map((m) => m.name);
}

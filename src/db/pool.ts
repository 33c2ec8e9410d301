// Connection pools. The pool serves short queries (job rows, progress); every COPY takes a dedicated
// client of its own (see load/loadFile.ts), checked out for the length of one file's transaction.
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// int8 (bigint) columns come back as JS numbers: row counts and byte sizes stay far below 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));

export function createPool(databaseUrl: string, options: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'citus-ingest',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // A client losing its connection (idle, or in use: a terminated backend, a restart) must not crash the
  // process: the failure reaches the caller through its query, and the broken client is not pooled again.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

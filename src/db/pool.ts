// Connection pools. The pool serves short queries (job rows, progress); every COPY takes a dedicated
// client of its own (see load/loadFile.ts), checked out for the length of one file's transaction.
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// int8 (bigint) columns come back as JS numbers: row counts and byte sizes stay far below 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));

export type PoolMode = 'direct' | 'session' | 'transaction';

// Pools whose connections are handed out per transaction by a pooler (PgBouncer pool_mode=transaction).
const transactionPooled = new WeakSet<pg.Pool>();

/**
 * May code keep session state (a `SET`, a session advisory lock) on a client of this pool between its
 * transactions? Not when a pooler in transaction mode stands between: the next statement may run on
 * another server connection, and the state stays behind for another client to inherit.
 */
export function keepsSessionState(pool: pg.Pool): boolean {
  return !transactionPooled.has(pool);
}

export function createPool(
  databaseUrl: string,
  options: { max?: number; applicationName?: string; /** Default `direct`. */ poolMode?: PoolMode } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'citus-ingest',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  if (options.poolMode === 'transaction') transactionPooled.add(pool);
  // A client losing its connection (idle, or in use: a terminated backend, a restart) must not crash the
  // process: the failure reaches the caller through its query, and the broken client is not pooled again.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

// The one way this codebase runs a transaction on a pooled connection (the load paths' COPY transactions
// keep their own shape: they begin with the load's settings and hand the connection back to a session).
import type { Pool, PoolClient } from './pool.js';

/** Thrown inside inTransaction's callback to roll back on purpose and return `value`. */
export class Rollback<T> {
  constructor(readonly value: T) {}
}

/**
 * BEGIN, `fn`, COMMIT; ROLLBACK when `fn` throws (or throws a Rollback, whose value is returned). A
 * connection that cannot even roll back is closed rather than pooled.
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const value = await fn(client);
    await client.query('COMMIT');
    return value;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => (broken = true));
    if (err instanceof Rollback) return err.value as T;
    throw err;
  } finally {
    client.release(broken);
  }
}

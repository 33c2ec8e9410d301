// Database sessions a job keeps from one file to the next. On Citus a COPY into a distributed table
// opens a connection per shard placement and, by default, the session keeps one per worker when the
// transaction ends, so every file of a many-file job (a Spark job's part files) would open the rest
// again. A job's files therefore load on sessions it holds until it ends, each keeping its worker
// connections (keepWorkerConnections); at the end they are reset and go back to the pool.
import type { Pool, PoolClient } from '../db/pool.js';
import { keepWorkerConnections } from '../target/citus.js';

export class LoadSessions {
  private readonly idle: PoolClient[] = [];
  private readonly restore = new Map<PoolClient, () => Promise<void>>();

  constructor(
    private readonly pool: Pool,
    /** The table the files load into. */
    private readonly table: string,
  ) {}

  async take(): Promise<PoolClient> {
    const kept = this.idle.pop();
    if (kept) return kept;
    const client = await this.pool.connect();
    try {
      this.restore.set(client, await keepWorkerConnections(client, this.table));
    } catch (err) {
      client.release(true);
      throw err;
    }
    return client;
  }

  /** Back after a file; a broken session (a failed COPY) is closed, not kept. */
  give(client: PoolClient, broken: boolean): void {
    if (broken) {
      this.restore.delete(client);
      client.release(true);
      return;
    }
    this.idle.push(client);
  }

  /** Resets every kept session and returns it to the pool. */
  async close(): Promise<void> {
    for (const client of this.idle.splice(0)) {
      const restore = this.restore.get(client);
      this.restore.delete(client);
      let broken = false;
      await restore?.().catch(() => (broken = true));
      client.release(broken);
    }
  }
}

// Database sessions a job keeps from one file to the next. On Citus a COPY into a distributed table
// opens a connection per shard placement and, by default, the session keeps one per worker when the
// transaction ends, so every file of a many-file job (a Spark job's part files) would open the rest
// again, and so would every chunk of a chunked load. Such COPYs therefore run on sessions held until
// the job's files (or the object's chunks) are done, each keeping its worker connections
// (keepWorkerConnections); at the end they are reset and go back to the pool. Behind a pooler in
// transaction mode (DATABASE_POOL_MODE=transaction) the setting would leak to other clients of the
// server connection, so it is not made there and every transaction opens its worker connections anew.
import { keepsSessionState, type Pool, type PoolClient } from '../db/pool.js';
import { keepWorkerConnections } from '../sink/citus.js';

/** Hands out a load's sessions: LoadSessions on one pool, or sink/entryNodes.ts's over every entry node. */
export interface Sessions {
  take(): Promise<PoolClient>;
  give(client: PoolClient, broken: boolean): void;
  close(): Promise<void>;
}

export class LoadSessions implements Sessions {
  private readonly idle: PoolClient[] = [];
  private readonly restore = new Map<PoolClient, () => Promise<void>>();

  constructor(
    private readonly pool: Pool,
    /** The table the files load into. */
    private readonly table: string,
    /** The most connections per worker the loads' COPYs open (target.connectionsPerWorker). */
    private readonly perWorker: number,
  ) {}

  async take(): Promise<PoolClient> {
    const kept = this.idle.pop();
    if (kept) return kept;
    const client = await this.pool.connect();
    if (!keepsSessionState(this.pool)) return client;
    try {
      this.restore.set(client, await keepWorkerConnections(client, this.table, this.perWorker));
    } catch (err) {
      client.release(true);
      throw err;
    }
    return client;
  }

  /**
   * Back after a file. A broken session (a failed COPY) is closed. A session is kept only while nobody
   * waits for the pool: a file of this job, or anything else of this worker, waiting for a connection
   * gets this one, or it would wait for the pool's timeout while the session sat here unused.
   */
  give(client: PoolClient, broken: boolean): void {
    if (broken) {
      this.restore.delete(client);
      client.release(true);
    } else if (this.pool.waitingCount > 0) {
      void this.putBack(client);
    } else {
      this.idle.push(client);
    }
  }

  /** Resets every kept session and returns it to the pool. */
  async close(): Promise<void> {
    for (const client of this.idle.splice(0)) await this.putBack(client);
  }

  private async putBack(client: PoolClient): Promise<void> {
    const restore = this.restore.get(client);
    this.restore.delete(client);
    let broken = false;
    await restore?.().catch(() => (broken = true));
    client.release(broken);
  }
}

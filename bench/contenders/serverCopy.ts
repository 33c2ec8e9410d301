// server-copy: the ceiling. PostgreSQL reads the file from its own disk (`COPY t FROM '/path'`), so no
// byte crosses a client connection. Timed around the COPY statement alone, on an open connection.
//
// On Citus, `server-copy cN` is the same COPY with citus.max_adaptive_executor_pool_size = N: the most
// connections per worker, which the service's COPYs use too (target.connectionsPerWorker, default 4).
// It shows how much of the service's figure is that setting, not the way the bytes travel.
import pg from 'pg';
import type { Contender } from './types.js';

export function serverCopy(connectionsPerWorker?: number): Contender {
  return {
    name: connectionsPerWorker === undefined ? 'server-copy' : `server-copy c${connectionsPerWorker}`,
    async run(ctx) {
      const client = new pg.Client({ connectionString: ctx.target.url });
      await client.connect();
      try {
        if (connectionsPerWorker !== undefined) await client.query(`SET citus.max_adaptive_executor_pool_size = ${connectionsPerWorker}`);
        const path = ctx.file.path.replace(/'/g, "''");
        const t0 = performance.now();
        const res = await client.query(`COPY ${ctx.table} FROM '${path}' WITH (FORMAT csv)`);
        const seconds = (performance.now() - t0) / 1000;
        return { seconds, peakRssMb: null, extra: { copyRowCount: res.rowCount } };
      } finally {
        await client.end();
      }
    },
  };
}

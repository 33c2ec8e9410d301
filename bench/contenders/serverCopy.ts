// server-copy: the ceiling. PostgreSQL reads the file from its own disk (`COPY t FROM '/path'`), so no
// byte crosses a client connection. Timed around the COPY statement alone, on an open connection.
import pg from 'pg';
import type { Contender } from './types.js';

export const serverCopy: Contender = {
  name: 'server-copy',
  async run(ctx) {
    const client = new pg.Client({ connectionString: ctx.target.url });
    await client.connect();
    try {
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

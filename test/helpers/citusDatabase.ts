// A database of its own on the local Citus cluster, for tests that change what the service's migrations
// make of the `ingest` schema there (migration 0080 turns the ledgers into Citus tables): other test
// files keep using citus_test as it is. The database is created on every node with the citus extension,
// and the coordinator's metadata lists the coordinator and the same workers as citus_test's. Idempotent.
import pg from 'pg';

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function at(url: string, host: string, port: number, database: string): string {
  const u = new URL(url);
  u.hostname = host;
  u.port = String(port);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Returns the URL of `name` on the coordinator of the cluster `coordinatorUrl` names, creating it. */
export async function citusDatabase(coordinatorUrl: string, name: string): Promise<string> {
  const nodes = await withClient(coordinatorUrl, async (c) =>
    (await c.query<{ host: string; port: number; groupid: number }>(
      `SELECT nodename AS host, nodeport AS port, groupid FROM pg_dist_node WHERE noderole = 'primary' AND isactive ORDER BY groupid`,
    )).rows,
  );
  const coordinator = nodes.find((n) => n.groupid === 0);
  if (!coordinator) throw new Error('the cluster lists no coordinator in pg_dist_node');
  for (const n of nodes) {
    await withClient(at(coordinatorUrl, n.host, n.port, 'postgres'), async (c) => {
      const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) await c.query(`CREATE DATABASE ${name}`);
    });
    await withClient(at(coordinatorUrl, n.host, n.port, name), (c) => c.query('CREATE EXTENSION IF NOT EXISTS citus'));
  }
  const url = at(coordinatorUrl, coordinator.host, coordinator.port, name);
  await withClient(url, async (c) => {
    const listed = new Set((await c.query<{ node: string }>(`SELECT nodename || ':' || nodeport AS node FROM pg_dist_node`)).rows.map((r) => r.node));
    if (!listed.has(`${coordinator.host}:${coordinator.port}`)) await c.query('SELECT citus_set_coordinator_host($1, $2)', [coordinator.host, coordinator.port]);
    for (const n of nodes.filter((w) => w.groupid !== 0 && !listed.has(`${w.host}:${w.port}`))) {
      await c.query('SELECT citus_add_node($1, $2)', [n.host, n.port]);
    }
  });
  return url;
}

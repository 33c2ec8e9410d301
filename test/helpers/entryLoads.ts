// What the entry-node tests (entry-nodes, entry-node-stopped) share: the distributed price-paid target
// they load, a chunked load entering at every node, the sum of the prices a seed's rows carry, what a
// loaded table holds, and what the chunk ledger holds of a job.
import { postJob, type Harness } from './harness.js';
import { pricePaidCsv, pricePaidRows, ukPriceCreateSpec } from '../../src/gen/pricePaid.js';

/** A job's target: the price-paid table, created and distributed on its id over 8 shards. */
export const distributed = (table: string) => ({ table, create: ukPriceCreateSpec(), distribution: { column: 'transaction_unique_identifier', shardCount: 8 } });

/** The sum of the price column of pricePaidRows(rows, seed). */
export function priceSum(rows: number, seed: number): number {
  let sum = 0;
  for (const r of pricePaidRows(rows, seed)) sum += Number(r[1]);
  return sum;
}

/** Rows, their price sum, and distinct ids of a uk_price-shaped table. */
export async function contents(h: Harness, table: string): Promise<{ n: number; distinct: number; sum: number }> {
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT transaction_unique_identifier)::int AS distinct, coalesce(sum(price::bigint), 0)::bigint AS sum FROM ${table}`);
  return { n: rows[0].n, distinct: rows[0].distinct, sum: Number(rows[0].sum) };
}

/** Chunks of the job whose transaction entered at a worker and committed (the chunk ledger names the node). */
export async function chunksAtWorkers(h: Harness, jobId: string): Promise<number> {
  return (await h.db.query('SELECT count(*)::int AS n FROM ingest.chunk_ledger WHERE job_id = $1 AND entry_node IS NOT NULL', [jobId])).rows[0].n;
}

/**
 * Puts a price-paid file of `rows` rows (seed `seed`), starts the service and submits it to `<schema>.uk_price`
 * chunked (1 MiB) over 3 streams with entryNodes "all"; returns without waiting for the job.
 */
export async function startChunkedLoad(h: Harness, rows: number, seed: number): Promise<{ svcUrl: string; table: string; jobId: string }> {
  const url = await h.put('pp.csv', pricePaidCsv(rows, seed));
  const svc = await h.start();
  const table = `${h.schema}.uk_price`;
  const res = await postJob(svc.url!, { source: { url }, target: { ...distributed(table), entryNodes: 'all' }, atomicity: 'chunk', streams: 3, chunkBytes: 1 << 20 });
  if (res.status !== 202) throw new Error(`POST /jobs answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { svcUrl: svc.url!, table, jobId: res.body.id };
}

/** The job's chunk-ledger rows, the distinct chunks among them (by first byte) and their rows. */
export async function chunkLedger(h: Harness, jobId: string): Promise<{ n: number; distinct: number; rows: number }> {
  const { rows } = await h.db.query('SELECT count(*)::int AS n, count(DISTINCT byte_start)::int AS d, sum(rows_loaded)::int AS r FROM ingest.chunk_ledger WHERE job_id = $1', [jobId]);
  return { n: rows[0].n, distinct: rows[0].d, rows: rows[0].r };
}

/** Prepared (two-phase) transactions waiting on each node of the cluster, by "host:port". */
export async function preparedTransactions(h: Harness): Promise<Record<string, number>> {
  const { rows } = await h.db.query(
    `SELECT n.nodename || ':' || n.nodeport AS node, r.result FROM run_command_on_all_nodes('SELECT count(*) FROM pg_prepared_xacts') r
       JOIN pg_dist_node n USING (nodeid) ORDER BY n.groupid, n.nodeport`,
  );
  return Object.fromEntries(rows.map((r) => [r.node, Number(r.result)]));
}

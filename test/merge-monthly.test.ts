// The price-paid lifecycle: a 200,000-row base file, then three monthly change files merged in order,
// on a 32-shard distributed table and on plain PostgreSQL. The table must equal the state computed here,
// independently of the service, by applying the generated records to a map (last record per id wins).
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';
import { pricePaidStream, pricePaidRows, ukPriceColumns } from '../src/gen/pricePaid.js';
import { monthlyChangeCsv, monthlyChangeRows, type MonthSpec } from '../src/gen/pricePaidMonthly.js';

// Two 200,000-row loads and six merges: more than the suite's 300 s per file on a busy 2-core machine.
t.setTimeout(1_800_000);

const BASE = { rows: 200_000, seed: 1501 };
const MONTHS: MonthSpec[] = [1, 2, 3].map((month) => ({ month, adds: 3_000 + month * 100, changes: 2_000, deletes: 700, addThenDelete: 4, deleteUnknown: 3 }));

const create = {
  columns: ukPriceColumns.map((name) => ({
    name,
    type: name === 'transaction_unique_identifier' ? 'uuid' : name === 'price' ? 'integer' : name === 'date_of_transfer' ? 'timestamp' : 'varchar(100)',
  })),
  primaryKey: ['transaction_unique_identifier'],
};

interface Expected {
  count: number;
  sum: number;
  md5: string;
}

/** Applies the base and the months to a map, as the Land Registry means them. */
function expectedState(): Expected {
  const rows = new Map<string, string[]>();
  const id = (guid: string) => guid.slice(1, -1).toLowerCase();
  for (const r of pricePaidRows(BASE.rows, BASE.seed)) rows.set(id(r[0]!), r);
  for (const m of MONTHS) {
    for (const r of monthlyChangeRows(BASE, m)) {
      if (r[15] === 'D') rows.delete(id(r[0]!));
      else rows.set(id(r[0]!), r);
    }
  }
  const keys = [...rows.keys()].sort();
  const hash = createHash('md5');
  let sum = 0;
  keys.forEach((k, i) => {
    const r = rows.get(k)!;
    sum += Number(r[1]);
    hash.update(`${i ? '\n' : ''}${k}|${r[1]}|${r[2]}|${r[3]}|${r[15]}`);
  });
  return { count: keys.length, sum, md5: hash.digest('hex') };
}

async function actualState(h: Harness, table: string): Promise<Expected> {
  const { rows } = await h.db.query(
    `SELECT count(*)::int AS count, sum(price)::bigint AS sum,
            md5(string_agg(concat_ws('|', transaction_unique_identifier::text, price, to_char(date_of_transfer, 'YYYY-MM-DD HH24:MI'), postcode, record_status),
                           E'\\n' ORDER BY transaction_unique_identifier)) AS md5
       FROM ${table}`,
  );
  return { count: rows[0].count, sum: Number(rows[0].sum), md5: rows[0].md5 };
}

async function submitAndWait(url: string, spec: Record<string, unknown>) {
  for (let i = 0; ; i++) {
    const res = await postJob(url, spec);
    if (res.status === 503 && i < 20) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    if (res.status !== 202) throw new Error(JSON.stringify(res.body));
    return waitForJob(url, res.body.id, undefined, 600_000);
  }
}

async function run(t: Test, h: Harness, distribution: Record<string, unknown> | undefined, expected: Expected) {
  const svc = await h.start();
  const table = `${h.schema}.uk_price`;
  const chunks: Buffer[] = [];
  for await (const c of pricePaidStream(BASE.rows, BASE.seed)) chunks.push(Buffer.from(c));
  const baseUrl = await h.put('pp/base/pp-complete.csv', Buffer.concat(chunks));
  const base = await submitAndWait(svc.url!, { source: { url: baseUrl }, target: { table, create, ...(distribution ? { distribution } : {}) } });
  t.equal(base.status, 'succeeded', JSON.stringify(base.error));
  t.equal(base.result.rowsLoaded, BASE.rows);
  // Uploaded newest first: the names, not the upload order, decide the merge order.
  for (const m of [...MONTHS].reverse()) await h.put(`pp/monthly/pp-2025-0${m.month}.csv`, monthlyChangeCsv(BASE, m));
  const job = await submitAndWait(svc.url!, {
    source: { url: 's3://landing/pp/monthly/' }, target: { table }, mode: 'merge', key: ['transaction_unique_identifier'],
    operation: { column: 'record_status', delete: ['D'], upsert: ['A', 'C'] }, concurrency: 3,
  });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const files = job.runs[0].files.map((f: any) => [f.key, f.merge]);
  t.same(
    files,
    MONTHS.map((m) => [
      `pp/monthly/pp-2025-0${m.month}.csv`,
      { inserted: m.adds, updated: m.changes, deleted: m.deletes, deleteMissing: (m.addThenDelete ?? 0) + (m.deleteUnknown ?? 0), rejected: 0 },
    ]),
    'each month merged in name order with exactly its adds, changes and deletes',
  );
  t.same(await actualState(h, table), expected, 'count, price sum and md5 of the sorted rows match the independent state');
  return table;
}

const expected = expectedState();

t.test('plain PostgreSQL: a base file and three monthly merges give the expected table', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await run(t, h, undefined, expected);
});

const cluster = citusCluster();

t.test('Citus, 32 shards: a base file and three monthly merges give the expected table', { skip: cluster.skip ?? false }, async (t) => {
  const h = await createHarness({ databaseUrl: cluster.url! });
  t.teardown(() => h.close());
  const table = await run(t, h, { column: 'transaction_unique_identifier', shardCount: 32 }, expected);
  const shards = await h.db.query(`SELECT shard_count::int AS n FROM citus_tables WHERE table_name = $1::regclass`, [table]);
  t.equal(shards.rows[0].n, 32);
});

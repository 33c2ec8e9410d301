// Loads into a real Citus cluster (coordinator + 2 workers from scripts/citus-local.sh). Skipped, with a
// visible line, where the citus extension is not installed.
import t from 'tap';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';
import { pricePaidCsv, pricePaidRows, ukPriceColumns } from '../src/gen/pricePaid.js';

const cluster = citusCluster();
const skip = cluster.skip ?? false;
const citusUrl = cluster.url ?? '';

const ukPriceCreate = {
  columns: ukPriceColumns.map((name) => ({
    name,
    type: name === 'transaction_unique_identifier' ? 'uuid' : name === 'price' ? 'integer' : name === 'date_of_transfer' ? 'timestamp' : 'varchar(100)',
  })),
  primaryKey: ['transaction_unique_identifier'],
};

t.test('a missing table is created, distributed over both workers with 32 shards, then loaded', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const rows = 20_000;
  const url = await h.put('pp.csv', pricePaidCsv(rows, 51));
  const svc = await h.start();
  const table = `${h.schema}.uk_price`;
  const res = await postJob(svc.url!, {
    source: { url },
    target: { table, create: ukPriceCreate, distribution: { column: 'transaction_unique_identifier', shardCount: 32 } },
  });
  t.equal(res.status, 202, JSON.stringify(res.body));
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same(job.result.target.distributed, 'created');

  const count = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(count.rows[0].n, rows, 'every row through the coordinator');
  const part = await h.db.query(`SELECT citus_table_type, distribution_column, shard_count::int AS shards FROM citus_tables WHERE table_name = $1::regclass`, [table]);
  t.same(part.rows[0], { citus_table_type: 'distributed', distribution_column: 'transaction_unique_identifier', shards: 32 });
  // Loaded after distribution: the coordinator's own relation holds nothing.
  const local = await h.db.query(`SELECT pg_relation_size($1::regclass)::int AS b`, [table]);
  t.equal(local.rows[0].b, 0, "the coordinator's shell table holds no rows");

  // The run's shard report against citus_shards.
  const layout = job.runs[0].shardLayout;
  const shards = await h.db.query(
    `SELECT nodename || ':' || nodeport AS node, count(*)::int AS shards, sum(shard_size)::bigint AS bytes,
            max(shard_size)::bigint AS mx, min(shard_size)::bigint AS mn
       FROM citus_shards WHERE table_name = $1::regclass GROUP BY 1 ORDER BY 1`,
    [table],
  );
  t.equal(layout.type, 'distributed');
  t.equal(layout.shardCount, 32);
  t.equal(layout.distributionColumn, 'transaction_unique_identifier');
  t.equal(layout.nodes.length, 2, 'shards on both workers');
  t.same(layout.nodes, shards.rows.map((r) => ({ node: r.node, shards: r.shards, bytes: Number(r.bytes) })));
  const mx = Math.max(...shards.rows.map((r) => Number(r.mx)));
  const mn = Math.min(...shards.rows.map((r) => Number(r.mn)));
  t.equal(layout.largestShardBytes, mx);
  t.equal(layout.smallestShardBytes, mn);
  t.equal(layout.skew, Math.round((mx / mn) * 1000) / 1000);

  const facts = (await (await fetch(`${svc.url}/tables/${table}`)).json()) as any;
  t.equal(facts.type, 'distributed');
  t.equal(facts.distributionColumn, 'transaction_unique_identifier');
  t.equal(facts.shardCount, 32);
  t.type(facts.colocationId, 'number');
  t.equal(facts.nodes.length, 2);
});

t.test('a reference table loads a small lookup file onto every node', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const url = await h.put('types.csv', 'D,Detached\nS,Semi-detached\nT,Terraced\nF,Flat\nO,Other\n');
  const svc = await h.start();
  const table = `${h.schema}.property_types`;
  const res = await postJob(svc.url!, {
    source: { url },
    target: { table, create: { columns: [{ name: 'code', type: 'char(1)' }, { name: 'label', type: 'text' }], primaryKey: ['code'] }, distribution: { reference: true } },
  });
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(rows[0].n, 5);
  t.equal(job.runs[0].shardLayout.type, 'reference');
  const placements = await h.db.query(`SELECT count(*)::int AS n FROM citus_shards WHERE table_name = $1::regclass`, [table]);
  t.equal(job.runs[0].shardLayout.nodes.length, placements.rows[0].n, 'a placement per node');
  t.ok(placements.rows[0].n >= 2);
});

t.test('loading into an existing distributed table; a different distribution column is refused', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const table = `${h.schema}.events`;
  await h.db.query(`CREATE TABLE ${table} (id bigint, tenant int, note text, PRIMARY KEY (tenant, id))`);
  await h.db.query(`SELECT create_distributed_table($1, 'tenant', shard_count => 4)`, [table]);
  const body = Array.from({ length: 1000 }, (_, i) => `${i},${i % 7},"note, ${i}"`).join('\n') + '\n';
  const url = await h.put('events.csv', body);
  const svc = await h.start();

  const ok = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url }, target: { table, distribution: { column: 'tenant' } } })).body.id);
  t.equal(ok.status, 'succeeded', JSON.stringify(ok.error));
  t.equal(ok.result.target.distributed, 'existing');
  const sum = await h.db.query(`SELECT count(*)::int AS n, sum(id)::int AS s FROM ${table}`);
  t.same(sum.rows[0], { n: 1000, s: 499500 });

  const url2 = await h.put('events2.csv', '5000,1,x\n');
  const bad = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: url2 }, target: { table, distribution: { column: 'id' } } })).body.id);
  t.equal(bad.status, 'failed');
  t.equal(bad.error.code, 'TARGET_DISTRIBUTION_MISMATCH');
  t.match(bad.error.message, /distributed on "tenant".*asks for distributed on "id"/);
  const after = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(after.rows[0].n, 1000, 'nothing loaded by the refused job');
});

t.test('a plain table is distributed first only when distributeExisting says so', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const table = `${h.schema}.plain`;
  await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
  await h.db.query(`INSERT INTO ${table} SELECT g, 'old' FROM generate_series(1, 100) g`);
  const url = await h.put('more.csv', Array.from({ length: 50 }, (_, i) => `${101 + i},new`).join('\n') + '\n');
  const svc = await h.start();
  const spec = { source: { url }, target: { table, distribution: { column: 'id', shardCount: 8 } } };
  const refused = await waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id);
  t.equal(refused.error?.code, 'TARGET_NOT_DISTRIBUTED');
  const done = await waitForJob(svc.url!, (await postJob(svc.url!, { ...spec, target: { ...spec.target, distributeExisting: true } })).body.id);
  t.equal(done.status, 'succeeded', JSON.stringify(done.error));
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE v = 'old')::int AS old FROM ${table}`);
  t.same(rows[0], { n: 150, old: 100 });
  t.equal(done.runs[0].shardLayout.shardCount, 8);
  t.equal(done.runs[0].shardLayout.type, 'distributed');
});

t.test('a bad row in a distributed load rolls the whole file back on every shard', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const table = `${h.schema}.nums`;
  await h.db.query(`CREATE TABLE ${table} (id int, v int)`);
  await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 8)`, [table]);
  const lines = Array.from({ length: 3000 }, (_, i) => `${i},${i}`);
  lines[2500] = '2500,not-a-number';
  const url = await h.put('nums.csv', lines.join('\n') + '\n');
  const svc = await h.start();
  const job = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url }, target: { table } })).body.id);
  t.equal(job.status, 'failed');
  t.equal(job.error.code, 'DATA_REJECTED');
  t.equal(job.error.details.line, 2501);
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(rows[0].n, 0);
});

t.test('replace on a distributed table keeps its distribution and colocation; readers see old or new only', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const table = `${h.schema}.uk_price`;
  const url1 = await h.put('v1.csv', pricePaidCsv(8_000, 81));
  const url2 = await h.put('v2.csv', pricePaidCsv(5_000, 82));
  const svc = await h.start();
  const first = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: url1 }, target: { table, create: ukPriceCreate, distribution: { column: 'transaction_unique_identifier', shardCount: 8 } } })).body.id);
  t.equal(first.status, 'succeeded', JSON.stringify(first.error));
  const before = await h.db.query(`SELECT colocation_id FROM citus_tables WHERE table_name = $1::regclass`, [table]);
  const reader = new (await import('pg')).default.Client({ connectionString: citusUrl });
  await reader.connect();
  const seen = new Set<number>();
  let reading = true;
  const loop = (async () => {
    while (reading) seen.add((await reader.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n);
  })();
  const job = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url: url2 }, target: { table }, mode: 'replace' })).body.id);
  await new Promise((r) => setTimeout(r, 300));
  reading = false;
  await loop;
  await reader.end();
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same([...seen].sort((a, b) => a - b), [5_000, 8_000].filter((n) => seen.has(n)), 'no partial count was seen');
  t.ok(seen.has(5_000), 'the new table became visible');
  const after = await h.db.query(`SELECT citus_table_type, distribution_column, shard_count::int AS s, colocation_id FROM citus_tables WHERE table_name = $1::regclass`, [table]);
  t.same(after.rows[0], { citus_table_type: 'distributed', distribution_column: 'transaction_unique_identifier', s: 8, colocation_id: before.rows[0].colocation_id });
  t.equal((await h.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 5_000);
});

t.test('atomicity job on Citus stages into a colocated table and upserts by key', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const table = `${h.schema}.prices`;
  await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, price int)`);
  await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 4)`, [table]);
  await h.db.query(`INSERT INTO ${table} SELECT g, g FROM generate_series(1, 100) g`);
  const url = await h.put('up.csv', Array.from({ length: 100 }, (_, i) => `${i + 51},${(i + 51) * 100}`).join('\n') + '\n');
  const svc = await h.start();
  const job = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url }, target: { table }, mode: 'upsert', key: ['id'] })).body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE price = id * 100)::int AS updated FROM ${table}`);
  t.same(rows[0], { n: 150, updated: 100 });
  // This job's stage: others may be running on the shared cluster.
  const stages = await h.db.query(`SELECT count(*)::int AS n FROM citus_tables WHERE table_name::text LIKE $1`, [`ingest_stage.%${job.id.replace(/-/g, '')}%`]);
  t.equal(stages.rows[0].n, 0, 'the staging table is gone');
});

/** A 32-shard distributed table of the price-paid columns, all text, in the test's schema. */
async function textTable32(h: Harness, name = 'uk_price'): Promise<string> {
  const table = `${h.schema}.${name}`;
  await h.db.query(`CREATE TABLE ${table} (${ukPriceColumns.map((c) => `"${c}" text`).join(', ')})`);
  await h.db.query(`SELECT create_distributed_table($1, 'transaction_unique_identifier', shard_count => 32)`, [table]);
  return table;
}

/**
 * How many sessions `load` started on the first worker (pg_stat_database.sessions); `load` stops the
 * service it started, so every session it caused has ended and is counted.
 */
async function workerSessionsOpenedBy(h: Harness, load: () => Promise<void>): Promise<number> {
  const workers = await h.db.query(`SELECT node_name, node_port FROM citus_get_active_worker_nodes() ORDER BY node_port`);
  const worker = `postgres://postgres@${workers.rows[0].node_name}:${workers.rows[0].node_port}/${new URL(citusUrl).pathname.slice(1)}`;
  const { default: pg } = await import('pg');
  const sessions = async (): Promise<number> => {
    const c = new pg.Client(worker);
    await c.connect();
    const { rows } = await c.query(`SELECT sessions::int AS n FROM pg_stat_database WHERE datname = current_database()`);
    await c.end();
    return rows[0].n;
  };
  const before = await sessions();
  await load();
  return (await sessions()) - before - 1; // less the session that read `before`
}

t.test('chunk lanes keep their worker connections from one chunk to the next', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const rows = 20_000;
  const csv = pricePaidCsv(rows, 52);
  const url = await h.put('chunks.csv', csv);
  const table = await textTable32(h);
  const chunkBytes = 65536;
  const chunks = Math.ceil(Buffer.byteLength(csv) / chunkBytes);
  const opened = await workerSessionsOpenedBy(h, async () => {
    const svc = await h.start();
    // A connection per placement (16 per worker), as Citus does by default, so reopening them would show.
    const res = await postJob(svc.url!, { source: { url }, target: { table, connectionsPerWorker: 16 }, atomicity: 'chunk', streams: 2, chunkBytes });
    const job = await waitForJob(svc.url!, res.body.id);
    t.equal(job.status, 'succeeded', JSON.stringify(job.error));
    await svc.stop();
  });
  const count = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(count.rows[0].n, rows);
  // 16 placements per worker: a lane opening them for every chunk would start about 15 x chunks sessions.
  t.ok(chunks >= 30, `${chunks} chunks`);
  t.ok(opened < 4 * 16, `${opened} sessions on the first worker for ${chunks} chunks over 2 lanes`);
});

t.test('the files of a many-file job share sessions that keep their worker connections', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const files = 12;
  for (let i = 0; i < files; i++) await h.put(`parts/part-${String(i).padStart(5, '0')}.csv`, pricePaidCsv(500, 60 + i));
  const table = await textTable32(h);
  const opened = await workerSessionsOpenedBy(h, async () => {
    const svc = await h.start();
    const res = await postJob(svc.url!, { source: { url: `s3://${h.bucket}/parts/` }, target: { table, connectionsPerWorker: 16 }, concurrency: 2 });
    const job = await waitForJob(svc.url!, res.body.id);
    t.equal(job.status, 'succeeded', JSON.stringify(job.error));
    t.equal(job.runs[0].files.filter((f: any) => f.status === 'loaded').length, files);
    await svc.stop();
  });
  const count = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(count.rows[0].n, files * 500);
  // 16 placements per worker: a COPY per file opening them anew would start about 15 x 12 sessions.
  t.ok(opened < 4 * 16, `${opened} sessions on the first worker for ${files} files at concurrency 2`);
});

t.test('a COPY opens at most target.connectionsPerWorker connections to a worker, its shards there sharing them', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const rows = 5_000;
  const url = await h.put('shared.csv', pricePaidCsv(rows, 71));
  const expected = [...pricePaidRows(rows, 71)].reduce((a, r) => a + Number(r[1]), 0);
  const counts: Record<string, number> = {};
  for (const perWorker of [2, 16, undefined]) {
    // A table of its own each time: the file ledger would skip the object for a target it was loaded into.
    const table = await textTable32(h, `shared_${perWorker ?? 'default'}`);
    const opened = await workerSessionsOpenedBy(h, async () => {
      const svc = await h.start();
      // Entered at the coordinator: the sessions counted are its COPY's (entry-nodes.test.ts covers the rest).
      const entry = { table, entryNodes: 'coordinator' };
      const target = perWorker === undefined ? entry : { ...entry, connectionsPerWorker: perWorker };
      const job = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url }, target })).body.id);
      t.equal(job.status, 'succeeded', JSON.stringify(job.error));
      await svc.stop();
    });
    const loaded = await h.db.query(`SELECT count(*)::int AS n, sum(price::int)::bigint AS total, count(DISTINCT shardid)::int AS shards
                                       FROM (SELECT price, get_shard_id_for_distribution_column($1, transaction_unique_identifier) AS shardid FROM ${table}) s`, [table]);
    t.same(loaded.rows[0], { n: rows, total: expected, shards: 32 }, `every row, in all 32 shards (connectionsPerWorker ${perWorker ?? 'default'})`);
    counts[String(perWorker ?? 'default')] = opened;
  }
  // 16 placements on the first worker. Citus's maintenance daemon may open a session of its own meanwhile.
  t.ok(counts['2']! >= 2 && counts['2']! <= 3, `connectionsPerWorker 2: ${counts['2']} sessions on the first worker`);
  t.ok(counts['default']! >= 4 && counts['default']! <= 5, `the default of 4: ${counts['default']} sessions`);
  t.ok(counts['16']! >= 16, `connectionsPerWorker 16: ${counts['16']} sessions, one per placement`);
});

t.test('a distributed table dropped and created again loads a file its predecessor had (the ledger keeps the coordinator OID)', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const rows = 2_000;
  const url = await h.put('rebuilt.csv', pricePaidCsv(rows, 81));
  const expected = [...pricePaidRows(rows, 81)].reduce((a, r) => a + Number(r[1]), 0);
  const svc = await h.start();
  const table = `${h.schema}.rebuilt`;
  const spec = { source: { url }, target: { table, create: ukPriceCreate, distribution: { column: 'transaction_unique_identifier', shardCount: 8 } } };
  const load = async () => waitForJob(svc.url!, (await postJob(svc.url!, spec)).body.id);
  const total = async () => (await h.db.query(`SELECT count(*)::int AS n, coalesce(sum(price), 0)::bigint AS s FROM ${table}`)).rows[0];

  const first = await load();
  t.equal(first.status, 'succeeded', JSON.stringify(first.error));
  t.same(await total(), { n: rows, s: String(expected) });
  t.equal((await load()).result.filesSkipped, 1, 'the same table skips the file');
  t.same(await total(), { n: rows, s: String(expected) });

  await h.db.query(`DROP TABLE ${table}`);
  const rebuilt = await load();
  t.equal(rebuilt.status, 'succeeded', JSON.stringify(rebuilt.error));
  t.equal(rebuilt.result.target.created, true, 'created again from target.create');
  t.equal(rebuilt.result.filesLoaded, 1, 'and the file loads into it');
  t.same(await total(), { n: rows, s: String(expected) });
  const kind = await h.db.query(`SELECT citus_table_type FROM citus_tables WHERE table_name = $1::regclass`, [table]);
  t.equal(kind.rows[0]?.citus_table_type, 'distributed');
  const oid = (await h.db.query(`SELECT $1::regclass::oid::text AS oid`, [table])).rows[0].oid;
  const ledger = await h.db.query('SELECT target_oid::text AS oid FROM ingest.file_ledger WHERE target = $1', [`"${h.schema}"."rebuilt"`]);
  t.same(ledger.rows, [{ oid }]);
});

// Loads entering Citus at every node (target.entryNodes, docs/entry-nodes.md) on the local cluster
// (coordinator 9700, workers 9701 and 9702): every row once, each node taking its share, the ledgers
// written on whichever node a file or chunk entered, rejects at their true lines, a resubmission
// loading nothing, a worker-entry session killed mid-COPY and the service worker killed mid-load. Skipped, with a visible line, where the
// citus extension is not installed.
import t from 'tap';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { createHarness, postJob, waitForJob, allRejects, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';
import { citusDatabase } from './helpers/citusDatabase.js';
import { chunkLedger, chunksAtWorkers, contents, distributed, priceSum, startChunkedLoad } from './helpers/entryLoads.js';
import { pricePaidCsv, ukPriceCreateSpec } from '../src/gen/pricePaid.js';
import { outcome } from '../src/cli/report.js';
import { loadConfig } from '../src/config.js';
import { nodeUrl } from '../src/sink/entryNodes.js';

const cluster = citusCluster();
const skip = cluster.skip ?? false;
// A database of this file's own: migration 0080 makes the ledgers Citus tables there, not in citus_test.
const citusUrl = cluster.url ? await citusDatabase(cluster.url, 'citus_entry_nodes') : '';
const WORKERS = ['127.0.0.1:9701', '127.0.0.1:9702'];
const NODES = ['127.0.0.1:9700', ...WORKERS];

async function submit(h: Harness, svcUrl: string, spec: Record<string, unknown>): Promise<any> {
  const res = await postJob(svcUrl, spec);
  if (res.status !== 202) throw new Error(JSON.stringify(res.body));
  return waitForJob(svcUrl, res.body.id, undefined, 300_000);
}

/** A distributed (id, v) table keyed on id, for records refused as duplicate keys. */
async function keyedTable(h: Harness): Promise<string> {
  const table = `${h.schema}.keyed`;
  await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int)`);
  await h.db.query(`SELECT create_distributed_table($1, 'id', shard_count => 8)`, [table]);
  return table;
}

t.test('a chunked object over 3 streams with entryNodes "all": every row once, each node takes a share, a resubmission loads nothing', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const rows = 150_000;
  const url = await h.put('pp.csv', pricePaidCsv(rows, 29));
  const svc = await h.start();
  const table = `${h.schema}.uk_price`;
  const spec = { source: { url }, target: { ...distributed(table), entryNodes: 'all' }, atomicity: 'chunk', streams: 3, chunkBytes: 1 << 20 };
  const job = await submit(h, svc.url!, spec);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same(await contents(h, table), { n: rows, distinct: rows, sum: priceSum(rows, 29) }, 'every row once, with its price');

  const run = job.runs.at(-1);
  t.match(run.entryChoice, { requested: 'all', used: 'all', nodes: NODES });
  const shares = new Map<string, any>(run.entryNodes.map((s: any) => [s.node, s]));
  t.same([...shares.keys()].sort(), NODES, 'one share per node');
  for (const node of NODES) t.ok(shares.get(node).rows > 0, `${node} took rows (${shares.get(node).rows})`);
  t.equal(run.entryNodes.reduce((a: number, s: any) => a + s.rows, 0), rows, 'the shares add up to the file');
  // The chunk ledger: one row per chunk, each written on the node its transaction entered at.
  const ledger = await h.db.query(
    `SELECT coalesce(entry_node, '127.0.0.1:9700') AS node, count(*)::int AS chunks, sum(rows_loaded)::int AS rows
       FROM ingest.chunk_ledger WHERE job_id = $1 GROUP BY 1 ORDER BY 1`,
    [job.id],
  );
  t.same(ledger.rows.map((r) => r.node), NODES, 'chunks entered at every node');
  t.same(ledger.rows.map((r) => r.rows), NODES.map((n) => shares.get(n).rows), 'the run reports what the ledger holds');
  const files = await h.db.query('SELECT count(*)::int AS n FROM ingest.file_ledger WHERE job_id = $1', [job.id]);
  t.equal(files.rows[0].n, 1, 'the object has one file-ledger row');
  // Beside the shard layout: the job page and the CLI's report show each node's rows.
  const page = await (await fetch(`${svc.url}/ui/jobs/${job.id}`)).text();
  for (const node of NODES) t.match(page, new RegExp(`<tr data-node="${node}"><td><code>${node}</code></td><td class="num">${shares.get(node).rows.toLocaleString('en-US')}</td>`), `the job page shows ${node}'s rows`);
  const report = outcome(job).out;
  t.match(report, /entry nodes \(all: target.entryNodes is "all"\)/);
  for (const node of NODES) t.match(report, new RegExp(`${node}.*${shares.get(node).rows.toLocaleString('en-US')}`), `the CLI report shows ${node}'s rows`);

  const again = await submit(h, svc.url!, spec);
  t.equal(again.status, 'succeeded', JSON.stringify(again.error));
  t.equal(again.result.rowsLoaded, 0, 'the resubmission loads nothing');
  t.equal(again.result.filesSkipped, 1);
  t.same(await contents(h, table), { n: rows, distinct: rows, sum: priceSum(rows, 29) });
});

t.test('several files with atomicity "file" and entryNodes "auto" on a distributed table: files spread over the nodes, one ledger row each', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const files = 6;
  const perFile = 20_000;
  let sum = 0;
  for (let i = 0; i < files; i++) {
    await h.put(`parts/part-${i}.csv`, pricePaidCsv(perFile, 100 + i));
    sum += priceSum(perFile, 100 + i);
  }
  const svc = await h.start();
  const table = `${h.schema}.uk_price`;
  const spec = { source: { url: `s3://${h.bucket}/parts/` }, target: distributed(table), concurrency: 3 };
  const job = await submit(h, svc.url!, spec);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.same(await contents(h, table), { n: files * perFile, distinct: files * perFile, sum }, 'every row once');
  const run = job.runs.at(-1);
  t.match(run.entryChoice, { requested: 'auto', used: 'all' }, 'auto enters at every node for a distributed table');
  const ledger = await h.db.query(
    `SELECT key, coalesce(entry_node, '127.0.0.1:9700') AS node, rows_loaded FROM ingest.file_ledger WHERE job_id = $1 ORDER BY key`,
    [job.id],
  );
  t.equal(ledger.rows.length, files, 'one ledger row per file');
  t.ok(ledger.rows.every((r) => r.rows_loaded === perFile));
  t.same([...new Set(ledger.rows.map((r) => r.node))].sort(), NODES, 'files entered at every node');
  for (const node of NODES) {
    const share = run.entryNodes.find((s: any) => s.node === node);
    t.equal(share.rows, ledger.rows.filter((r) => r.node === node).length * perFile, `${node}'s share is its files' rows`);
  }

  const again = await submit(h, svc.url!, spec);
  t.equal(again.result.rowsLoaded, 0, 'the resubmission loads nothing');
  t.equal(again.result.filesSkipped, files);
  t.equal((await contents(h, table)).n, files * perFile);
});

t.test('entryNodes "auto" loads a plain table through the coordinator and says why', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const url = await h.put('pp.csv', pricePaidCsv(2_000, 7));
  const svc = await h.start();
  const table = `${h.schema}.plain`;
  const job = await submit(h, svc.url!, { source: { url }, target: { table, create: ukPriceCreateSpec() } });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal((await contents(h, table)).n, 2_000);
  const run = job.runs.at(-1);
  t.equal(run.entryChoice.used, 'coordinator');
  t.match(run.entryChoice.reason, /not a Citus table/);
  t.same(run.entryNodes, [{ node: '127.0.0.1:9700', rows: 2_000, bytes: (await h.db.query('SELECT size FROM ingest.file_ledger WHERE job_id = $1', [job.id])).rows[0].size }]);

  const refused = await postJob(svc.url!, { source: { url }, target: { table, entryNodes: 'all' }, reload: true });
  t.equal(refused.status, 202);
  const failed = await waitForJob(svc.url!, refused.body.id, undefined, 120_000);
  t.equal(failed.status, 'failed');
  t.equal(failed.error.code, 'ENTRY_NODES_UNSUPPORTED');
  t.match(failed.error.message, /not a Citus table/);
});

t.test('rejects on worker entry nodes: keys already in the table are rejected at their true lines, the rest loads', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const table = await keyedTable(h);
  // One file per node (with concurrency 1 the files go to the nodes in turn), each with keys that are
  // already there at its own lines.
  const badLines = [[41, 700], [5, 333, 998], [1000]];
  const expected: Array<[string, number]> = [];
  let goodSum = 0;
  for (let f = 0; f < 3; f++) {
    const lines = Array.from({ length: 1000 }, (_, i) => `${f * 10_000 + i + 1},${i + 1}`);
    for (const line of badLines[f]!) {
      const old = -(f * 10_000 + line);
      await h.db.query(`INSERT INTO ${table} VALUES ($1, 0)`, [old]);
      lines[line - 1] = `${old},5000`;
      expected.push([`s3://landing/keys/f${f}.csv`, line]);
    }
    goodSum += lines.filter((_, i) => !badLines[f]!.includes(i + 1)).reduce((s, l) => s + Number(l.split(',')[1]), 0);
    await h.put(`keys/f${f}.csv`, lines.join('\n') + '\n');
  }
  const svc = await h.start();
  const job = await submit(h, svc.url!, { source: { url: `s3://${h.bucket}/keys/` }, target: { table, entryNodes: 'all' }, maxErrors: 5, concurrency: 1 });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const entered = await h.db.query(`SELECT key, coalesce(entry_node, '127.0.0.1:9700') AS node FROM ingest.file_ledger WHERE job_id = $1 ORDER BY key`, [job.id]);
  t.same(entered.rows.map((r) => r.node).sort(), NODES, 'each file entered at its own node');
  const rejects = await allRejects(svc.url!, job.id);
  t.same(rejects.map((r) => [r.url, r.line]).sort(), expected.sort(), 'each reject at its line in its file');
  t.ok(rejects.every((r) => r.sqlstate === '23505'));
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, sum(v)::int AS s FROM ${table} WHERE id > 0`);
  t.same(rows[0], { n: 3000 - expected.length, s: goodSum }, 'the good rows, none of the refused values');
});

t.test('rejects in chunks entering at every node: each at its line in the file, the rest loads', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const table = await keyedTable(h);
  const records = 60_000;
  const bad = [7, 9_000, 17_001, 33_333, 48_000, 59_999];
  const lines = Array.from({ length: records }, (_, i) => `${i + 1},${i % 100}`);
  for (const line of bad) {
    await h.db.query(`INSERT INTO ${table} VALUES ($1, 0)`, [-line]);
    lines[line - 1] = `${-line},5000`;
  }
  const goodSum = lines.filter((_, i) => !bad.includes(i + 1)).reduce((a, l) => a + Number(l.split(',')[1]), 0);
  const url = await h.put('keys.csv', lines.join('\n') + '\n');
  const svc = await h.start();
  const job = await submit(h, svc.url!, { source: { url }, target: { table, entryNodes: 'all' }, atomicity: 'chunk', streams: 3, chunkBytes: 65536, maxErrors: 10 });
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const chunks = await h.db.query(`SELECT DISTINCT coalesce(entry_node, '127.0.0.1:9700') AS node FROM ingest.chunk_ledger WHERE job_id = $1 ORDER BY 1`, [job.id]);
  t.same(chunks.rows.map((r) => r.node), NODES, 'chunks entered at every node');
  const rejects = await allRejects(svc.url!, job.id);
  t.same(rejects.map((r) => r.line).sort((a, b) => a - b), bad, 'each reject at its line in the file');
  t.same(rejects.map((r) => r.record).sort(), bad.map((l) => `${-l},5000`).sort());
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, sum(v)::int AS s FROM ${table} WHERE id > 0`);
  t.same(rows[0], { n: records - bad.length, s: goodSum }, 'the good rows once, none of the refused values');
});

t.test('a worker-entry session terminated mid-COPY: the job retries and ends with every row once', { skip }, async (t) => {
  const h = await createHarness({ databaseUrl: citusUrl });
  t.teardown(() => h.close());
  const rows = 150_000;
  const { svcUrl, table, jobId } = await startChunkedLoad(h, rows, 31);
  const worker = new pg.Client({ connectionString: citusUrl.replace(':9700', ':9701') });
  await worker.connect();
  t.teardown(() => worker.end());
  let killed = 0;
  const deadline = Date.now() + 120_000;
  while (killed === 0 && Date.now() < deadline) {
    const k = await worker.query(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE application_name = 'citus-ingest-entry' AND state = 'active' AND query ILIKE 'COPY%'`,
    );
    killed = k.rows[0].n;
    if (killed === 0) await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(killed > 0, 'a COPY entering at worker 9701 was terminated');
  const job = await waitForJob(svcUrl, jobId, undefined, 300_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.ok(job.runs.length >= 2, `the job ran again after the kill (${job.runs.length} runs)`);
  t.equal(job.runs[0].error.code, 'DATABASE_UNAVAILABLE');
  t.same(await contents(h, table), { n: rows, distinct: rows, sum: priceSum(rows, 31) }, 'every row once');
  const chunks = await chunkLedger(h, job.id);
  t.equal(chunks.n, chunks.distinct, 'one ledger row per chunk');
  t.equal(chunks.rows, rows);
});

t.test('the service worker SIGKILLed while chunks enter at every node: a new worker finishes the job with every row once', { skip }, async (t) => {
  const fast = { lockDurationMs: 3000, stalledIntervalMs: 1000, reconcileIntervalMs: 1000 };
  const h = await createHarness({ databaseUrl: citusUrl, ...fast });
  t.teardown(() => h.close());
  const rows = 300_000;
  const url = await h.put('pp.csv', pricePaidCsv(rows, 37));
  const api = await h.start('api');
  // node itself, not a wrapper: the kill must hit the process holding the COPY sessions.
  const worker = spawn(process.execPath, ['--import', 'tsx', 'src/entry.ts', 'worker'], {
    env: {
      ...process.env, DATABASE_URL: h.config.databaseUrl, REDIS_URL: h.config.redisUrl, S3_ENDPOINT: h.s3.endpoint, S3_ACCESS_KEY_ID: h.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: h.s3.secretAccessKey, QUEUE_NAME: h.config.queueName, LOCK_DURATION_MS: '3000', STALLED_INTERVAL_MS: '1000', LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => worker.on('exit', (_code, signal) => r(signal)));
  const table = `${h.schema}.uk_price`;
  const { body } = await postJob(api.url!, { source: { url }, target: { ...distributed(table), entryNodes: 'all' }, atomicity: 'chunk', streams: 3, chunkBytes: 1 << 20 });
  const deadline = Date.now() + 120_000;
  while ((await chunksAtWorkers(h, body.id)) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  worker.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL', 'killed the worker process while chunks were entering at the workers');
  const mid = (await contents(h, table)).n;
  t.ok(mid > 0 && mid < rows, `${mid} rows committed when it died`);

  await h.start('worker');
  const job = await waitForJob(api.url!, body.id, ['succeeded', 'failed'], 300_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.ok(job.runs.length >= 2, 'the killed attempt and the one that finished are both runs');
  t.same(await contents(h, table), { n: rows, distinct: rows, sum: priceSum(rows, 37) }, 'every row once');
  t.equal(job.runs.at(-1).entryNodes.reduce((a: number, s: any) => a + s.rows, 0), rows - mid, 'the new worker loaded only the missing chunks, at every node');
});

t.test('node URLs: DATABASE_URL at the node address by default, CITUS_NODE_URLS entries and template over it', async (t) => {
  const db = 'postgres://ingest:secret@coordinator.internal:5432/citus?sslmode=require';
  t.equal(nodeUrl(db, loadConfig({}).citusNodeUrls, '10.0.0.7', 6543), 'postgres://ingest:secret@10.0.0.7:6543/citus?sslmode=require');
  t.equal(nodeUrl(db, loadConfig({}).citusNodeUrls, '::1', 9701), 'postgres://ingest:secret@[::1]:9701/citus?sslmode=require');
  const urls = loadConfig({ CITUS_NODE_URLS: 'w1:5432=postgres://a:b@w1.public:6432/citus, postgres://a:b@{host}.bouncer:6432/citus?port={port}' }).citusNodeUrls;
  t.equal(nodeUrl(db, urls, 'w1', 5432), 'postgres://a:b@w1.public:6432/citus', 'a named node takes its own URL');
  t.equal(nodeUrl(db, urls, 'w2', 5433), 'postgres://a:b@w2.bouncer:6432/citus?port=5433', 'the others the template');
  t.throws(() => loadConfig({ CITUS_NODE_URLS: 'w1=postgres://x@y/z' }), /CITUS_NODE_URLS entry "w1=postgres/);
  const noPlaceholder = (() => {
    try {
      loadConfig({ CITUS_NODE_URLS: 'postgres://u:pw@fixed-host/db' });
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  })();
  t.match(noPlaceholder, /CITUS_NODE_URLS entry "postgres:\/\/…@fixed-host\/db" is neither/, 'a URL without {host} is refused, its password not echoed');
});

t.test('on PostgreSQL without Citus: "all" is refused with its reason, "auto" records no entry nodes, and "all" needs file or chunk transactions', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const url = await h.put('pp.csv', pricePaidCsv(500, 3));
  const svc = await h.start();
  const table = `${h.schema}.plain`;
  const auto = await submit(h, svc.url!, { source: { url }, target: { table, create: ukPriceCreateSpec() } });
  t.equal(auto.status, 'succeeded', JSON.stringify(auto.error));
  t.equal(auto.runs.at(-1).entryNodes, null);
  t.equal(auto.runs.at(-1).entryChoice, null);
  const all = await submit(h, svc.url!, { source: { url }, target: { table, entryNodes: 'all' }, reload: true });
  t.equal(all.status, 'failed');
  t.equal(all.error.code, 'ENTRY_NODES_UNSUPPORTED');
  t.match(all.error.message, /no citus extension/);
  t.equal((await contents(h, table)).n, 500, 'nothing loaded twice');
  const staged = await postJob(svc.url!, { source: { url }, target: { table, entryNodes: 'all' }, mode: 'replace' });
  t.equal(staged.status, 400);
  t.equal(staged.body.error.details.field, '/target/entryNodes');
});

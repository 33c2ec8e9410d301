import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { citusCluster } from './helpers/citus.js';
import { pricePaidCsv, pricePaidRows, ukPriceColumns, ukPriceTableSql } from '../src/gen/pricePaid.js';
import { createQueue } from '../src/queue/queue.js';
import { CliError } from '../src/cli/exit.js';
import { buildSpec, createSpecFrom } from '../src/cli/spec.js';
import { RateTracker } from '../src/cli/progress.js';
import { fmtBytes, fmtDuration } from '../src/cli/format.js';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/citus-ingest.mjs ...args` as a user would, with stdout and stderr apart (not a TTY). */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/citus-ingest.mjs', ...args], {
      env: { ...process.env, CITUS_INGEST_API: '', CITUS_INGEST_TOKEN: '', LOG_LEVEL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment an in-process `load` reads: the harness's services, on a queue of its own. */
function serviceEnv(h: Harness): Record<string, string> {
  return {
    DATABASE_URL: h.config.databaseUrl,
    REDIS_URL: h.config.redisUrl,
    S3_ENDPOINT: h.config.s3Endpoint!,
    S3_ACCESS_KEY_ID: h.config.s3AccessKeyId!,
    S3_SECRET_ACCESS_KEY: h.config.s3SecretAccessKey!,
    QUEUE_NAME: `${h.config.queueName}-cli`,
    PROGRESS_INTERVAL_MS: '100',
  };
}

/** Drops what an in-process `load` leaves behind: its queue, and the ledger entries of this schema's tables. */
async function cleanUp(h: Harness): Promise<void> {
  const queue = createQueue({ ...h.config, queueName: `${h.config.queueName}-cli` });
  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
  await h.db.query(`DELETE FROM ingest.file_ledger WHERE target LIKE $1`, [`"${h.schema}".%`]).catch(() => {});
}

function usageError(t: Test, fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
    t.fail(`expected a usage error matching ${pattern}`);
  } catch (err) {
    t.ok(err instanceof CliError, 'a CliError');
    t.equal((err as CliError).exitCode, 2, 'exit code 2');
    t.match((err as Error).message, pattern);
  }
}

t.test('load flags become the job spec POST /jobs takes', async (t) => {
  t.same(buildSpec('s3://landing/price-paid/pp-2023.csv', { table: 'public.uk_price' }), {
    source: { url: 's3://landing/price-paid/pp-2023.csv' },
    format: {},
    target: { table: 'public.uk_price' },
  });

  const create = createSpecFrom(
    { columns: [{ name: 'transaction_unique_identifier', type: 'uuid' }, { name: 'price', type: 'integer' }], primaryKey: ['transaction_unique_identifier'] },
    'create.json',
  );
  t.same(
    buildSpec(
      's3://landing/pp.csv',
      {
        table: 'public.uk_price',
        columns: 'transaction_unique_identifier, price',
        header: true,
        delimiter: 'tab',
        null: '\\N',
        encoding: 'LATIN1',
        distributeBy: 'transaction_unique_identifier',
        shards: '32',
        maxErrors: '10',
      },
      create,
    ),
    {
      source: { url: 's3://landing/pp.csv' },
      format: { header: true, delimiter: '\t', null: '\\N', encoding: 'LATIN1' },
      target: {
        table: 'public.uk_price',
        columns: ['transaction_unique_identifier', 'price'],
        create,
        distribution: { column: 'transaction_unique_identifier', shardCount: 32 },
      },
      maxErrors: 10,
    },
  );
  t.same(buildSpec('s3://landing/towns.csv', { table: 'towns', reference: true, delimiter: '|' }).target, {
    table: 'towns',
    distribution: { reference: true },
  });
  t.same(buildSpec('s3://landing/pp.csv', { table: 't', distributeBy: 'id' }).target.distribution, { column: 'id' }, 'shard count left to Citus');
  t.same(buildSpec('s3://landing/pp.csv', { table: 't', null: '' }).format, { null: '' }, 'an empty --null is kept');

  usageError(t, () => buildSpec('s3://landing/pp.csv', {}), /--table <schema.table> is required/);
  usageError(t, () => buildSpec('ftp://landing/pp.csv', { table: 't' }), /not a source URL this service reads/);
  usageError(t, () => buildSpec('s3://landing', { table: 't' }), /not an s3:\/\/bucket\/key URL/);
  usageError(t, () => buildSpec('s3://landing/pp.csv', { table: 't', shards: '4' }), /--shards needs --distribute-by/);
  usageError(t, () => buildSpec('s3://landing/pp.csv', { table: 't', distributeBy: 'id', shards: '0' }), /--shards must be a whole number from 1 to 64000/);
  t.equal(buildSpec('s3://landing/pp.csv', { table: 't', connectionsPerWorker: '8' }).target.connectionsPerWorker, 8);
  usageError(t, () => buildSpec('s3://landing/pp.csv', { table: 't', connectionsPerWorker: '0' }), /--connections-per-worker must be a whole number from 1 to 64/);
  usageError(t, () => buildSpec('s3://landing/pp.csv', { table: 't', connectionsPerWorker: '2.5' }), /--connections-per-worker must be a whole number from 1 to 64/);
  usageError(t, () => buildSpec('s3://landing/pp.csv', { table: 't', distributeBy: 'id', reference: true }), /exclude each other/);
  usageError(t, () => buildSpec('s3://landing/pp.csv', { table: 't', delimiter: ';;' }), /--delimiter must be one character/);
  usageError(t, () => buildSpec('s3://landing/pp.csv', { table: 't', columns: 'a,,b' }), /--columns has an empty name/);
  usageError(t, () => buildSpec('s3://landing/pp.csv', { table: 't', maxErrors: '-1' }), /--max-errors must be a whole number/);
  usageError(t, () => createSpecFrom({ columns: [{ name: 'id' }] }, 'c.json'), /columns\[0\] needs a string "name" and "type"/);
  usageError(t, () => createSpecFrom([], 'c.json'), /not a JSON object/);
});

t.test('progress rates and ETA come from the last seconds of samples, and restart with a new run', async (t) => {
  const r = new RateTracker(5_000);
  t.same(r.add(0, 0, 0, 1_000_000), { rowsPerSecond: null, bytesPerSecond: null, etaMs: null });
  r.add(1_000, 100_000, 1_000, 1_000_000);
  const at2 = r.add(2_000, 200_000, 2_000, 1_000_000);
  t.equal(at2.bytesPerSecond, 100_000);
  t.equal(at2.rowsPerSecond, 1_000);
  t.equal(at2.etaMs, 8_000);
  // Ten seconds later at a new pace: the first samples have left the window.
  for (let s = 3; s <= 12; s++) r.add(s * 1_000, 200_000 + (s - 2) * 50_000, 2_000 + (s - 2) * 500, 1_000_000);
  t.equal(r.add(13_000, 750_000, 7_500, 1_000_000).bytesPerSecond, 50_000);
  // A retried run starts from zero: no negative rates.
  t.same(r.add(14_000, 0, 0, 1_000_000), { rowsPerSecond: null, bytesPerSecond: null, etaMs: null });
  t.equal(fmtBytes(16_690_588), '16.7 MB');
  t.equal(fmtDuration(754_000), '12m34s');
});

t.test('load without --api runs the service in-process, loads exactly the file and prints the timing table', async (t) => {
  const h = await createHarness();
  t.teardown(async () => {
    await cleanUp(h);
    await h.close();
  });
  const rows = 2_500;
  const body = pricePaidCsv(rows, 11);
  const url = await h.put('price-paid/pp-cli.csv', body);
  const table = `${h.schema}.uk_price`;
  await h.db.query(ukPriceTableSql(table));

  const res = await cli(['load', url, '--table', table], serviceEnv(h));
  t.equal(res.code, 0, res.stderr);
  t.match(res.stderr, /job [0-9a-f-]{36} submitted \(queued\)/);
  t.match(res.stdout, /^run 1 \(succeeded\)$/m);
  t.match(res.stdout, /\| COPY +\| +[\d.]+ m?s \|/);
  t.match(res.stdout, /\| rows loaded +\| +2,500 \|/);
  t.match(res.stdout, new RegExp(`\\| bytes read +\\| +${body.length.toLocaleString('en-US')} \\|`));
  t.match(res.stdout, /job [0-9a-f-]{36} succeeded: 2,500 rows loaded into /);
  t.notMatch(res.stdout, /"level"/, 'no service log lines on stdout');

  let priceSum = 0;
  for (const f of pricePaidRows(rows, 11)) priceSum += Number(f[1]);
  const got = await h.db.query(
    `SELECT count(*)::int AS n, count(DISTINCT transaction_unique_identifier)::int AS d, sum(price::bigint)::bigint AS s FROM ${table}`,
  );
  t.same(got.rows[0], { n: rows, d: rows, s: String(priceSum) });
});

t.test('load --create-from --distribute-by creates a Citus table and prints its shard layout', { skip: citusCluster().skip ?? false }, async (t) => {
  const h = await createHarness({ databaseUrl: citusCluster().url! });
  t.teardown(async () => {
    await cleanUp(h);
    await h.close();
  });
  const rows = 4_000;
  const url = await h.put('price-paid/pp-citus.csv', pricePaidCsv(rows, 14));
  const table = `${h.schema}.uk_price`;
  const dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
  const createFile = join(dir, 'uk_price.create.json');
  writeFileSync(
    createFile,
    JSON.stringify({
      columns: ukPriceColumns.map((name) => ({ name, type: name === 'transaction_unique_identifier' ? 'uuid' : name === 'price' ? 'integer' : 'varchar(100)' })),
      primaryKey: ['transaction_unique_identifier'],
    }),
  );

  const res = await cli(
    ['load', url, '--table', table, '--create-from', createFile, '--distribute-by', 'transaction_unique_identifier', '--shards', '8'],
    serviceEnv(h),
  );
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /\| rows loaded +\| +4,000 \|/);
  t.match(res.stdout, /shard layout \(distributed on transaction_unique_identifier, 8 shards, colocation group \d+\)/);
  const nodeLines = res.stdout.split('\n').filter((l) => /^\| \S+:\d+ +\| +\d+ \| +[\d.]+ (B|kB|MB) \|$/.test(l));
  t.equal(nodeLines.length, 2, 'a line per worker');
  t.match(res.stdout, /^skew: \d+\.\d{3} \(largest shard .*, smallest .*\)$/m);
  const got = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(got.rows[0].n, rows);
  const part = await h.db.query(`SELECT shard_count::int AS shards FROM citus_tables WHERE table_name = $1::regclass`, [table]);
  t.equal(part.rows[0].shards, 8);
});

t.test('load --api --json prints only the final job; jobs and watch read it back', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const rows = 1_200;
  const body = pricePaidCsv(rows, 12);
  const url = await h.put('price-paid/pp-api.csv', body);
  const table = `${h.schema}.uk_price`;
  await h.db.query(ukPriceTableSql(table));
  const svc = await h.start('all');

  const res = await cli(['load', url, '--table', table, '--api', svc.url!, '--json']);
  t.equal(res.code, 0, res.stderr);
  const job = JSON.parse(res.stdout);
  t.equal(job.status, 'succeeded');
  t.equal(job.progress.bytesRead, body.length);
  t.equal(job.progress.bytesTotal, body.length);
  t.equal(job.result.rowsLoaded, rows);
  t.equal(job.progress.rowsLoaded, rows, 'progress.rowsLoaded is the final count');
  t.equal(job.runs.length, 1);
  t.equal(job.runs[0].rowsLoaded, rows);
  t.equal(res.stderr, '', 'no progress output with --json');
  const count = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(count.rows[0].n, rows);

  const listed = await cli(['jobs', '--api', svc.url!, '--json', '--status', 'succeeded']);
  t.equal(listed.code, 0, listed.stderr);
  const page = JSON.parse(listed.stdout);
  const mine = page.jobs.find((j: { id: string }) => j.id === job.id);
  t.ok(mine, 'jobs --json lists the job');
  t.equal(mine?.result?.rowsLoaded, rows);

  const table_ = await cli(['jobs', '--api', svc.url!, '--limit', '5']);
  t.equal(table_.code, 0, table_.stderr);
  const line = table_.stdout.split('\n').find((l) => l.includes(job.id));
  t.match(line, /\| succeeded \|/);
  t.match(line, /\| +1,200 \| +[\d,]+ \|/, 'rows and the last run rows/s');

  const watched = await cli(['watch', job.id, '--api', svc.url!]);
  t.equal(watched.code, 0, watched.stderr);
  t.match(watched.stdout, /\| rows loaded +\| +1,200 \|/);

  const noJob = await cli(['watch', '00000000-0000-4000-8000-000000000000', '--api', svc.url!]);
  t.equal(noJob.code, 1);
  t.match(noJob.stderr, /JOB_NOT_FOUND \(HTTP 404\): no job 00000000-0000-4000-8000-000000000000/);
  const badId = await cli(['watch', 'not-a-job-id', '--api', svc.url!]);
  t.equal(badId.code, 2, 'a malformed id is refused by the API with 400');
  t.match(badId.stderr, /INVALID_REQUEST/);
});

t.test('bad usage exits 2 with the reason, before or at the API', async (t) => {
  const noTable = await cli(['load', 's3://landing/pp.csv']);
  t.equal(noTable.code, 2);
  t.match(noTable.stderr, /--table <schema.table> is required/);

  const http = await cli(['load', 'ftp://landing/pp.csv', '--table', 'public.uk_price']);
  t.equal(http.code, 2);
  t.match(http.stderr, /not a source URL this service reads/);

  const dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
  const missing = await cli(['load', 's3://landing/pp.csv', '--table', 't', '--create-from', join(dir, 'nope.json')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /--create-from: cannot read .*nope\.json: ENOENT/);
  writeFileSync(join(dir, 'broken.json'), '{"columns": [');
  const broken = await cli(['load', 's3://landing/pp.csv', '--table', 't', '--create-from', join(dir, 'broken.json')]);
  t.equal(broken.code, 2);
  t.match(broken.stderr, /not valid JSON/);

  const unknown = await cli(['load', 's3://landing/pp.csv', '--tabel', 't']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown option '--tabel'/);

  // What only the server can judge: a 400 prints its message and details.field, and exits 2.
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const refused = await cli(['load', 's3://landing/pp.csv', '--table', 't', '--encoding', 'not an encoding', '--api', svc.url!]);
  t.equal(refused.code, 2, refused.stderr);
  t.match(refused.stderr, /INVALID_SPEC: invalid job spec: \/format\/encoding/);
  t.match(refused.stderr, /field: \/format\/encoding/);
});

t.test('a load that fails (missing table) exits 1 and prints the error code', async (t) => {
  const h = await createHarness();
  t.teardown(async () => {
    await cleanUp(h);
    await h.close();
  });
  const url = await h.put('price-paid/pp-orphan.csv', pricePaidCsv(50, 13));
  const res = await cli(['load', url, '--table', `${h.schema}.no_such_table`], serviceEnv(h));
  t.equal(res.code, 1, res.stderr);
  t.match(res.stdout, /job [0-9a-f-]{36} failed: 0 rows loaded/);
  t.match(res.stderr, /error TARGET_NOT_FOUND: /);
  t.match(res.stderr, /no_such_table/);
});

t.test('rejects prints the rejected records, and says so when the server has no rejects endpoint', async (t) => {
  const id = '3f0c5a64-8a6e-4f9b-9d1e-0a1b2c3d4e5f';
  const seen: Array<{ url: string; auth: string | undefined }> = [];
  let hasRoute = true;
  const longRecord = `"{6E5B1E3C-0000-4000-8000-000100000007}","abc","2019-02-30 00:00","MK15 9HP",${'"X",'.repeat(20)}"A"`;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ url: req.url!, auth: req.headers.authorization });
    res.setHeader('content-type', 'application/json');
    if (!hasRoute) {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route GET ${req.url}` } }));
      return;
    }
    if (!req.url!.startsWith(`/jobs/${id}/rejects`)) {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 'JOB_NOT_FOUND', message: 'no job' } }));
      return;
    }
    res.end(
      JSON.stringify({
        rejects: [
          { id: 'r1', runId: 'run1', url: 's3://landing/pp.csv', line: 7, byteOffset: 1234, column: 'price', sqlstate: '22P02', message: 'invalid input syntax for type integer: "abc"', record: longRecord },
          { id: 'r2', runId: 'run1', url: 's3://landing/pp.csv', line: 12, byteOffset: 2345, column: null, sqlstate: '22P04', message: 'extra data after last expected column', record: 'a,b\n' },
        ],
        total: 9,
        nextCursor: 'abc',
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const runId = '9d7b2f0e-1c3a-4e5f-8a9b-0c1d2e3f4a5b';
  const res = await cli(['rejects', id, '--limit', '2', '--run', runId, '--token', 's3cret'], { CITUS_INGEST_API: api });
  t.equal(res.code, 0, res.stderr);
  t.same(seen[0], { url: `/jobs/${id}/rejects?limit=2&runId=${runId}`, auth: 'Bearer s3cret' });
  t.match(res.stdout, /\| +7 \| price +\| 22P02 +\| invalid input syntax for type integer: "abc" +\| /);
  t.match(res.stdout, /\| +12 \| - +\| 22P04 +\| extra data after last expected column +\| a,b\\n +\|/);
  const recordCell = res.stdout.split('\n').find((l) => l.includes('22P02'))!.split('|')[5]!.trim();
  t.equal(recordCell.length, 60, 'a long record is cut to 60 characters');
  t.ok(recordCell.endsWith('…'));
  t.match(res.stdout, /2 of 9 rejected records/);
  t.match(res.stderr, /--cursor abc/);

  const json = await cli(['rejects', id, '--api', api, '--json']);
  t.equal(json.code, 0);
  t.equal(JSON.parse(json.stdout).total, 9);

  const noJob = await cli(['rejects', '00000000-0000-4000-8000-000000000000', '--api', api]);
  t.equal(noJob.code, 1);
  t.match(noJob.stderr, /JOB_NOT_FOUND/);

  hasRoute = false;
  const old = await cli(['rejects', id, '--api', api]);
  t.equal(old.code, 1);
  t.match(old.stderr, /this server has no rejects endpoint/);
});

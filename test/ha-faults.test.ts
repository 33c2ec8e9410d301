// Loads through PgBouncer (transaction mode) on the HA stack of scripts/ha-local.sh while the stack
// fails under them: a planned switchover of the coordinator, an unplanned failover (the primary's
// Patroni and postmaster SIGKILLed together), a worker's PostgreSQL restarted, PgBouncer restarted,
// HAProxy restarted. Each ends with exactly the file's rows, the job succeeded, its interrupted attempts
// in runs[] with their error codes, and no 500 from the API meanwhile; each prints its recovery time
// (from the fault to the first COPY through PgBouncer that commits after it).
//
// HA_FAULT_ROWS sets the file size (default 2,000,000 rows). Skipped, with the reason, where the stack's
// packages are missing; under CI (CI=true) that fails instead.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import t from 'tap';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { csvLine, pricePaidRows, ukPriceTableSql } from '../src/gen/pricePaid.js';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { coordinatorRoles, HA_ROOT, haStack, stackHealthy, until, type HaStack } from './helpers/ha.js';

const run = promisify(execFile);
const found = haStack();
const skip = found.skip ?? false;
const stack = found.stack as HaStack;
const ROWS = Number(process.env.HA_FAULT_ROWS ?? 2_000_000);
// Five loads of the file, each with a fault and its recovery: far past the suite's 300 s per file.
if (!skip) t.setTimeout(45 * 60_000);

// The file and its facts, made once.
let file: { body: Buffer; rows: number; priceSum: number } | undefined;
function sourceFile(): { body: Buffer; rows: number; priceSum: number } {
  if (file) return file;
  const parts: string[] = [];
  let priceSum = 0;
  for (const fields of pricePaidRows(ROWS, 77)) {
    parts.push(csvLine(fields));
    priceSum += Number(fields[1]);
  }
  file = { body: Buffer.from(parts.join(''), 'utf8'), rows: ROWS, priceSum };
  return file;
}

const sh = async (cmd: string, args: string[], timeout = 180_000): Promise<string> => (await run(cmd, args, { timeout, encoding: 'utf8' })).stdout;
const haAsync = (command: string, ...args: string[]): Promise<string> => sh('bash', ['scripts/ha-local.sh', command, ...args]);
const patronictl = (...args: string[]): Promise<string> => sh('patronictl', ['-c', `${HA_ROOT}/coord1.yml`, ...args]);

/** Calls the API every 250 ms while the fault lasts: statuses seen by /jobs/:id and /readyz. */
function watchApi(url: string, jobId: string): { stop(): Promise<{ jobs: number[]; readyz: number[] }> } {
  const jobs: number[] = [];
  const readyz: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const [a, b] = await Promise.all([
        fetch(`${url}/jobs/${jobId}`, { signal: AbortSignal.timeout(15_000) }).then((r) => r.status, () => 0),
        fetch(`${url}/readyz`, { signal: AbortSignal.timeout(15_000) }).then((r) => r.status, () => 0),
      ]);
      jobs.push(a);
      readyz.push(b);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { jobs, readyz };
    },
  };
}

/** Tries a one-row COPY through PgBouncer on a fresh connection every 250 ms; resolves at the first that commits. */
async function firstCopyAfter(since: number, table: string): Promise<number> {
  for (;;) {
    const client = new pg.Client({ connectionString: stack.pgbouncerUrl, connectionTimeoutMillis: 3000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('BEGIN');
      await pipeline(Readable.from([`${Date.now()}\n`]), client.query(copyFrom(`COPY ${table} (at) FROM STDIN`)));
      await client.query('COMMIT');
      return Date.now() - since;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

interface FaultCase {
  name: string;
  /** Whether /readyz must go not-ready during the fault (the coordinator or the pooler away). */
  readyzDrops: boolean;
  /** Makes the fault happen; resolves when it is injected (the stack may still be recovering). */
  inject(): Promise<void>;
  /** Puts back what the fault took away (a killed node), after the load. */
  repair?(): Promise<void>;
}

let killed: string | undefined;

const cases: FaultCase[] = [
  {
    name: 'a planned switchover of the coordinator (patronictl switchover)',
    readyzDrops: false,
    async inject() {
      const { leader, syncStandby } = await coordinatorRoles();
      await patronictl('switchover', '--group', '0', '--leader', leader!, '--candidate', syncStandby!, '--force');
    },
  },
  {
    name: "an unplanned failover (the coordinator primary's Patroni and postmaster SIGKILLed together)",
    readyzDrops: true,
    async inject() {
      const { leader } = await coordinatorRoles();
      killed = leader!;
      const patroni = (await readFile(`${HA_ROOT}/run/${leader}.pid`, 'utf8')).trim();
      const postmaster = (await readFile(`${HA_ROOT}/${leader}/postmaster.pid`, 'utf8')).split('\n')[0]!.trim();
      process.kill(Number(patroni), 'SIGKILL');
      process.kill(Number(postmaster), 'SIGKILL');
    },
    async repair() {
      // The old primary comes back as a replica (pg_rewind) once its Patroni runs again.
      if (killed) await haAsync('start', killed);
      killed = undefined;
    },
  },
  {
    name: "a worker group's PostgreSQL restarted (patronictl restart)",
    readyzDrops: false,
    async inject() {
      await patronictl('restart', 'citus-ingest-ha', 'worker1', '--group', '1', '--force');
    },
  },
  {
    name: 'PgBouncer restarted',
    readyzDrops: true,
    async inject() {
      await haAsync('stop-pooler');
      await new Promise((r) => setTimeout(r, 1000));
      await haAsync('start-pooler');
    },
  },
  {
    name: 'HAProxy restarted',
    readyzDrops: false,
    async inject() {
      await haAsync('stop-proxy');
      await new Promise((r) => setTimeout(r, 1000));
      await haAsync('start-proxy');
    },
  },
];

const recoveries: Array<{ name: string; ms: number }> = [];

// Every fault under both shapes of a load: one transaction per file, and chunks over two streams.
const runs = cases.flatMap((fault) => (['file', 'chunk'] as const).map((atomicity) => ({ ...fault, atomicity })));

for (const fault of runs) {
  t.test(`a ${ROWS.toLocaleString('en')}-row load (atomicity ${fault.atomicity}) through PgBouncer survives ${fault.name} with every row once`, { skip, timeout: 900_000 }, async (t) => {
    await stackHealthy(stack);
    const src = sourceFile();
    const h: Harness = await createHarness({ databaseUrl: stack.pgbouncerUrl, databasePoolMode: 'transaction', databaseListenUrl: stack.haproxyUrl, jobAttempts: 12 });
    t.teardown(() => h.close());
    const url = await h.put('pp-2m.csv', src.body);
    const table = `${h.schema}.uk_price`;
    await h.db.query(ukPriceTableSql(table));
    await h.db.query(`SELECT create_distributed_table($1, 'transaction_unique_identifier', shard_count => 8)`, [table]);
    const probe = `${h.schema}.copy_probe`;
    await h.db.query(`CREATE TABLE ${probe} (at bigint)`);
    const svc = await h.start();

    const spec = fault.atomicity === 'chunk'
      ? { source: { url }, target: { table }, atomicity: 'chunk', streams: 2 }
      : { source: { url }, target: { table } };
    // Putting the file into the in-process S3 server stalls the event loop, and under-pressure answers
    // 503 OVERLOADED for a moment after; a client retries those.
    let posted = await postJob(svc.url!, spec);
    for (let i = 0; posted.status === 503 && i < 60; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      posted = await postJob(svc.url!, spec);
    }
    t.equal(posted.status, 202, JSON.stringify(posted.body));
    const id = posted.body.id as string;

    // Mid-COPY: a fifth of the file read.
    let before: any;
    await until('the load to be a fifth in', async () => {
      before = (await (await fetch(`${svc.url}/jobs/${id}`)).json()) as any;
      return before.status !== 'queued' && (before.status !== 'running' || before.progress.bytesRead >= src.body.length / 5);
    }, 600_000, 200);
    t.equal(before.status, 'running', 'the fault comes mid-load');

    const api = watchApi(svc.url!, id);
    const at = Date.now();
    await fault.inject();
    const injectMs = Date.now() - at;
    const recoveryMs = await firstCopyAfter(at, probe);
    recoveries.push({ name: `${fault.name} (${fault.atomicity})`, ms: recoveryMs });
    console.log(`# recovery after ${fault.name} (atomicity ${fault.atomicity}): ${(recoveryMs / 1000).toFixed(1)} s (fault to the first COPY through PgBouncer that committed; the command causing it took ${(injectMs / 1000).toFixed(1)} s)`);

    const job = await waitForJob(svc.url!, id, undefined, 900_000);
    const seen = await api.stop();
    await fault.repair?.();

    t.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const { rows } = await h.db.query(
      `SELECT count(*)::int AS n, sum(price::bigint)::bigint AS sum, count(DISTINCT transaction_unique_identifier)::int AS ids FROM ${table}`,
    );
    t.equal(rows[0].n, src.rows, 'row count equals the file');
    t.equal(Number(rows[0].sum), src.priceSum, "price sum equals the file's");
    t.equal(rows[0].ids, src.rows, 'no duplicate id');
    if (fault.atomicity === 'file') {
      const ledger = await h.db.query(`SELECT count(*)::int AS n, sum(rows_loaded)::bigint AS rows FROM ingest.file_ledger WHERE job_id = $1`, [id]);
      t.same({ n: ledger.rows[0].n, rows: Number(ledger.rows[0].rows) }, { n: 1, rows: src.rows }, 'one ledger row for the file');
    } else {
      const ledger = await h.db.query(
        `SELECT count(*)::int AS n, count(DISTINCT byte_start)::int AS starts, sum(rows_loaded)::bigint AS rows FROM ingest.chunk_ledger WHERE job_id = $1`,
        [id],
      );
      t.equal(ledger.rows[0].n, ledger.rows[0].starts, 'one ledger row per chunk');
      t.equal(Number(ledger.rows[0].rows), src.rows, "the chunks' ledger rows add up to the file");
    }
    const failed = (job.runs as any[]).filter((r) => r.status !== 'succeeded');
    console.log(`# runs: ${(job.runs as any[]).map((r) => `${r.attempt}:${r.status}${r.error ? `(${r.error.code})` : ''}`).join(' ')}`);
    t.ok(failed.length >= 1, `the interrupted attempt is in runs[] (${job.runs.length} runs)`);
    t.ok(failed.every((r) => typeof r.error?.code === 'string'), `each interrupted attempt has an error code: ${failed.map((r) => r.error?.code).join(', ')}`);
    t.notOk(seen.jobs.includes(500) || seen.readyz.includes(500), `no 500 from the API during the fault (GET /jobs/:id ${summary(seen.jobs)}; /readyz ${summary(seen.readyz)})`);
    if (fault.readyzDrops) t.ok(seen.readyz.includes(503), '/readyz went not-ready during the fault');
    t.equal(seen.readyz.at(-1), 200, '/readyz ready again');
    await stackHealthy(stack);
  });
}

t.teardown(() => {
  if (recoveries.length) console.log(`# recovery times: ${recoveries.map((r) => `${r.name}: ${(r.ms / 1000).toFixed(1)} s`).join('; ')}`);
});

function summary(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${s}x${n}`).join(' ');
}


// The faults a soak injects, each a function of the fleet: process kills and restarts, the soak's own
// Redis restarted without persistence, load sessions terminated, a Citus worker node restarted, S3 restarted mid-body.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import type { HaStack } from '../../test/helpers/ha.js';
import type { Fleet } from './fleet.js';
import type { Random } from './random.js';

const run = promisify(execFile);

export interface FaultContext {
  fleet: Fleet;
  random: Random;
  /** The coordinator and the worker nodes, as URLs. */
  nodes: string[];
  /** Where the local Citus cluster keeps its nodes' data (scripts/citus-local.sh). */
  citusRoot: string;
  /** The soak's schema: only sessions loading into it are terminated. */
  schema: string;
  /** With --ha: the HA stack (its faults are in haFaults.ts). */
  ha?: HaStack;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function onNode(url: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: 'citus-ingest-soak' });
  await client.connect();
  try {
    return (await client.query(sql)).rowCount ?? 0;
  } finally {
    await client.end();
  }
}

async function pgCtl(root: string, node: string, action: 'restart'): Promise<void> {
  const bin = (await run('pg_config', ['--bindir'])).stdout.trim();
  // -l: the restarted server logs to its file, not to this process's pipes (execFile would wait for them to close).
  const args = ['-D', `${root}/${node}`, '-l', `${root}/${node}.log`, '-m', 'fast', '-w', '-t', '90', action];
  if (process.getuid?.() === 0) await run('su', ['postgres', '-c', [`${bin}/pg_ctl`, ...args.map((a) => `'${a}'`)].join(' ')]);
  else await run(`${bin}/pg_ctl`, args);
}

export const faults: Record<string, (c: FaultContext) => Promise<void>> = {
  'kill-worker': async ({ fleet, random }) => {
    const name = random.pick(fleet.workerNames);
    await fleet.kill(name);
    await sleep(random.int(200, 2000));
    await fleet.startService(name);
  },
  'kill-api': async ({ fleet, random }) => {
    await fleet.kill('api');
    await sleep(random.int(200, 1500));
    await fleet.startService('api');
  },
  // The soak's own Redis, killed (no persistence: every queue key is gone) and started empty.
  'redis-restart': async ({ fleet }) => {
    await fleet.kill('redis');
    await sleep(500);
    await fleet.startRedis();
  },
  'terminate-sessions': async ({ nodes, schema }) => {
    for (const url of nodes) {
      const sql = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active' AND query ILIKE 'COPY %' AND query ILIKE '%${schema}%'`;
      await onNode(url, sql).catch(() => 0);
    }
  },
  'citus-worker-restart': async ({ random, citusRoot }) => pgCtl(citusRoot, random.pick(['worker1', 'worker2']), 'restart'),
  's3-restart': async ({ fleet }) => fleet.restart('s3'),
};

export type FaultName = keyof typeof faults;

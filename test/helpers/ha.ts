// Starts the local HA stack (scripts/ha-local.sh: Citus under Patroni, HAProxy, PgBouncer) once per test
// process and returns its URLs, or a reason to skip when its packages are missing. Under CI
// (CI=true) a missing package fails the tests instead: CI installs them.
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { missing } from './requirement.js';

export interface HaStack {
  /** The coordinator leader, directly (as it was at start; it moves on failover). */
  leaderUrl: string;
  /** HAProxy: the coordinator port of whichever node Patroni reports as leader. */
  haproxyUrl: string;
  /** PgBouncer in transaction mode, in front of HAProxy. */
  pgbouncerUrl: string;
}

let cached: { stack?: HaStack; skip?: string } | undefined;

export function haStack(): { stack?: HaStack; skip?: string } {
  if (cached) return cached;
  const res = ha('up', 600_000);
  if (res.status === 3) {
    cached = { skip: missing(`the HA stack's packages are missing (${res.stderr.trim()}), so the HA tests cannot run`) };
  } else if (res.status !== 0) {
    throw new Error(`scripts/ha-local.sh up failed (exit ${res.status}): ${res.stderr}`);
  } else {
    const [leaderUrl, haproxyUrl, pgbouncerUrl] = res.stdout.trim().split('\n').slice(-3);
    cached = { stack: { leaderUrl: leaderUrl!, haproxyUrl: haproxyUrl!, pgbouncerUrl: pgbouncerUrl! } };
  }
  return cached;
}

/** Runs one scripts/ha-local.sh subcommand. */
export function ha(command: string, timeoutMs = 120_000, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync('bash', ['scripts/ha-local.sh', command, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
}

export const HA_ROOT = process.env.HA_LOCAL_DIR ?? '/tmp/citus-ingest-ha';
const HOST = '127.0.0.1';
const BASE = Number(process.env.HA_PORT_BASE ?? 9800);
export const haNodes = {
  coord1: { rest: BASE + 10, pg: BASE + 20 },
  coord2: { rest: BASE + 11, pg: BASE + 21 },
  worker1: { rest: BASE + 12, pg: BASE + 22 },
  worker2: { rest: BASE + 13, pg: BASE + 23 },
} as const;
export type HaNode = keyof typeof haNodes;

/** Patroni's view of the coordinator group: the leader and the synchronous standby, by name. */
export async function coordinatorRoles(): Promise<{ leader?: HaNode; syncStandby?: HaNode }> {
  for (const node of ['coord1', 'coord2'] as const) {
    try {
      const res = await fetch(`http://${HOST}:${haNodes[node].rest}/cluster`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { members: Array<{ name: HaNode; role: string; state: string }> };
      const leader = body.members.find((m) => m.role === 'leader' && m.state === 'running')?.name;
      const syncStandby = body.members.find((m) => m.role === 'sync_standby' && m.state === 'running')?.name;
      return { leader, syncStandby };
    } catch {
      // that node's REST API is down; ask the other
    }
  }
  return {};
}

/** Waits until `check` resolves true, polling every `everyMs`; throws after `timeoutMs` naming `what`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 180_000, everyMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** True when a write through `url` commits (a fresh connection, so a pooler's login state counts). */
export async function writable(url: string): Promise<boolean> {
  return asked(url, 'SELECT txid_current()', () => true);
}

/** One query on a connection of its own; what `answer` makes of its rows, or false when it fails. */
async function asked(url: string, sql: string, answer: (rows: any[]) => boolean): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return answer((await client.query(sql)).rows);
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The whole stack healthy again: a coordinator leader with a synchronous standby, both workers running
 * as primaries, writes through PgBouncer. Each fault test ends by waiting for this, so the next starts
 * from a whole stack.
 */
export async function stackHealthy(stack: HaStack, timeoutMs = 240_000): Promise<void> {
  await until('the coordinator leader and its synchronous standby', async () => {
    const roles = await coordinatorRoles();
    return roles.leader !== undefined && roles.syncStandby !== undefined;
  }, timeoutMs);
  for (const worker of ['worker1', 'worker2'] as const) {
    await until(`${worker} running as its group's primary`, async () => {
      const res = await fetch(`http://${HOST}:${haNodes[worker].rest}/primary`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { state?: string; pending_restart?: boolean };
      return res.status === 200 && body.state === 'running';
    }, timeoutMs);
  }
  await until('writes through PgBouncer', () => writable(stack.pgbouncerUrl), timeoutMs);
  // A worker that (re)started has its metadata synced again by the coordinator's maintenance daemon a
  // few seconds later; until then Citus refuses DDL that reaches it (SQLSTATE 55000, "is a metadata
  // node, but is out of sync"), as a freshly started stack's first CREATE SCHEMA found.
  await until("every worker's metadata synced", () => metadataSynced(stack.haproxyUrl), timeoutMs);
}

/** Does the coordinator see every active primary's metadata as synced? */
async function metadataSynced(url: string): Promise<boolean> {
  return asked(
    url,
    "SELECT coalesce(bool_and(metadatasynced), false) AS synced FROM pg_dist_node WHERE isactive AND noderole = 'primary' AND groupid <> 0",
    (rows) => rows[0]?.synced === true,
  );
}

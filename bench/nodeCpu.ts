// CPU of each Citus node's PostgreSQL during a load, read from /proc (bench/README.md, "Per-node CPU").
// A node's PostgreSQL is its postmaster and every process it forks: backends (the service's sessions,
// the connections other nodes open to route rows), the checkpointer, the WAL writer, Citus's
// maintenance daemon. The postmaster is found through a session: `SELECT pg_backend_pid()` on the node,
// and that backend's parent in /proc. This needs no access to the data directory (postmaster.pid is
// readable by the postgres user only) and holds after a node restarts under a new pid, as long as the
// nodes run on this machine; elsewhere (a container, another host) a node's figure is n/a, with why.
import pg from 'pg';
import { nodeUrl } from '../src/sink/entryNodes.js';
import { childrenCpuSeconds, parentOf } from './measure.js';
import { projectCeilings, projectionText, rowCosts, type Ceiling, type NodeLoad, type RowCosts } from './projection.js';
import { median, table, type RoundResult } from './report.js';
import type { Target } from './target.js';

export interface ClusterNode {
  /** `coordinator`, `worker1`, `worker2`, ...: workers numbered in pg_dist_node's group order. */
  label: string;
  /** host:port as pg_dist_node names it (runs[].entryNodes uses the same names). */
  address: string;
  /** pg_dist_node.shouldhaveshards: the projection assumes the coordinator holds none. */
  holdsShards: boolean;
  /** The node's postmaster on this machine; null when it could not be found (`why` says). */
  postmasterPid: number | null;
  why?: string;
}

/** One node's CPU seconds over one load; null when its postmaster is not readable here. */
export interface NodeCpu {
  node: string;
  address: string;
  cpuS: number | null;
}

/** Starts a reading of every node; the function it returns gives each node's CPU seconds since. */
export type NodeCpuMeter = () => Promise<() => Promise<NodeCpu[]>>;

const ONLY_DATABASE_URL = { template: undefined, urls: {} };

async function postmasterOf(url: string): Promise<{ postmasterPid: number | null; why?: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'citus-ingest-bench' });
  try {
    await client.connect();
    const pid = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    const parent = await parentOf(pid);
    if (!parent) return { postmasterPid: null, why: `its backend ${pid} is not in this machine's /proc (the node runs elsewhere)` };
    if (parent.comm !== 'postgres' && parent.comm !== 'postmaster') {
      return { postmasterPid: null, why: `the parent of its backend ${pid} here is "${parent.comm}", not a postmaster (the node runs elsewhere)` };
    }
    return { postmasterPid: parent.ppid };
  } catch (err) {
    return { postmasterPid: null, why: `no session: ${(err as Error).message}` };
  } finally {
    await client.end().catch(() => {});
  }
}

/** The cluster's active primary nodes, the coordinator first, each with its postmaster's pid. */
export async function clusterNodes(target: Target): Promise<ClusterNode[]> {
  const { rows } = await target.db.query<{ host: string; port: number; groupid: number; shards: boolean }>(
    `SELECT nodename AS host, nodeport AS port, groupid, shouldhaveshards AS shards
       FROM pg_catalog.pg_dist_node WHERE isactive AND noderole = 'primary' ORDER BY groupid, nodeid`,
  );
  // A coordinator missing from its own metadata is DATABASE_URL's node, holding no shards.
  if (!rows.some((r) => r.groupid === 0)) {
    const u = new URL(target.url);
    rows.unshift({ host: u.hostname, port: Number(u.port || 5432), groupid: 0, shards: false });
  }
  let worker = 0;
  const nodes: ClusterNode[] = [];
  for (const r of rows) {
    const found = await postmasterOf(nodeUrl(target.url, ONLY_DATABASE_URL, r.host, r.port));
    nodes.push({ label: r.groupid === 0 ? 'coordinator' : `worker${++worker}`, address: `${r.host}:${r.port}`, holdsShards: r.shards, ...found });
  }
  return nodes;
}

export function nodeCpuMeter(nodes: ClusterNode[]): NodeCpuMeter {
  const read = (): Promise<Array<number | undefined>> =>
    Promise.all(nodes.map((n) => (n.postmasterPid === null ? undefined : childrenCpuSeconds(n.postmasterPid))));
  return async () => {
    const before = await read();
    return async () => {
      const after = await read();
      return nodes.map((n, i) => {
        const [b, a] = [before[i], after[i]];
        return { node: n.label, address: n.address, cpuS: b === undefined || a === undefined ? null : a - b };
      });
    };
  };
}

/** Per contender: each node's CPU per 1,000,000 rows and the rows that entered there (medians of the valid rounds). */
export interface NodeCpuSummary {
  contender: string;
  roundsValid: number;
  /** Median wall-clock seconds of the valid rounds. */
  seconds: number | null;
  nodes: Array<{ node: string; address: string; cpuS: number | null; cpuPerMillionRows: number | null; rowsEntered: number | null }>;
}

/** What runs[].entryNodes said a load's nodes took (service contenders keep it in `extra`). */
function rowsEnteredAt(round: RoundResult, address: string): number | undefined {
  const shares = round.extra?.entryNodes as Array<{ node: string; rows: number }> | null | undefined;
  if (!Array.isArray(shares)) return undefined;
  return shares.find((s) => s.node === address)?.rows ?? 0;
}

export function summariseNodeCpu(nodes: ClusterNode[], contenders: string[], rounds: RoundResult[], rows: number): NodeCpuSummary[] {
  return contenders.map((contender) => {
    const ok = rounds.filter((r) => r.contender === contender && r.valid && r.seconds !== null);
    return {
      contender,
      roundsValid: ok.length,
      seconds: median(ok.map((r) => r.seconds!)),
      nodes: nodes.map((n) => {
        const cpuS = median(ok.map((r) => r.nodeCpu?.find((c) => c.node === n.label)?.cpuS).filter((v): v is number => typeof v === 'number'));
        const entered = median(ok.map((r) => rowsEnteredAt(r, n.address)).filter((v): v is number => v !== undefined));
        return { node: n.label, address: n.address, cpuS, cpuPerMillionRows: cpuS === null ? null : (cpuS / rows) * 1e6, rowsEntered: entered };
      }),
    };
  });
}

const seconds = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(2));

/** The printed table: CPU s per 1M rows of each node, their sum, the wall time, and where the rows entered. */
export function nodeCpuTable(summaries: NodeCpuSummary[]): string {
  const labels = summaries[0]?.nodes.map((n) => n.node) ?? [];
  const header = ['contender', 'rounds', ...labels, 'all nodes', 'wall s', 'rows entered at each node'];
  const body = summaries
    .filter((s) => s.roundsValid > 0)
    .map((s) => {
      const per = s.nodes.map((n) => n.cpuPerMillionRows);
      const sum = per.every((v) => v !== null) ? per.reduce((a, v) => a! + v!, 0) : null;
      const entered = s.nodes.every((n) => n.rowsEntered === null) ? '-' : s.nodes.map((n) => Math.round(n.rowsEntered ?? 0).toLocaleString('en-US')).join(' / ');
      return [s.contender, String(s.roundsValid), ...per.map(seconds), seconds(sum), seconds(s.seconds), entered];
    });
  return table(header, body, new Set(header.map((_, i) => i).slice(1, header.length - 1)));
}

/** The cluster sizes the projection is made for: 1 coordinator + N workers. */
export const PROJECTED_WORKERS = [2, 4, 8, 16];

export type EntryProjection =
  | { costs: { coordinatorOnly: RowCosts; everyNode: RowCosts }; ceilings: Ceiling[]; text: string }
  | { skipped: string };

/** A contender's medians as the projection's input, or why they cannot be. */
function measuredLoad(nodes: ClusterNode[], s: NodeCpuSummary | undefined, name: string): NodeLoad[] | string {
  if (!s || s.roundsValid === 0) return `${name} has no valid round`;
  const missing = s.nodes.filter((n) => n.cpuS === null || n.rowsEntered === null).map((n) => n.node);
  if (missing.length) return `${name}: no CPU or entry figure for ${missing.join(', ')}`;
  return s.nodes.map((n, i) => ({ role: nodes[i]!.label === 'coordinator' ? 'coordinator' : 'worker', cpuS: n.cpuS!, rowsEntered: n.rowsEntered! }));
}

/** The projection from the coordinator-only and the every-node contenders' per-node medians. */
export function entryProjection(nodes: ClusterNode[], summaries: NodeCpuSummary[], rows: number, coordinatorName: string, everyName: string): EntryProjection {
  if (nodes.find((n) => n.label === 'coordinator')?.holdsShards) {
    return { skipped: 'the coordinator holds shards (pg_dist_node.shouldhaveshards): its CPU is not the entry cost alone' };
  }
  const only = measuredLoad(nodes, summaries.find((s) => s.contender === coordinatorName), coordinatorName);
  const every = measuredLoad(nodes, summaries.find((s) => s.contender === everyName), everyName);
  if (typeof only === 'string') return { skipped: only };
  if (typeof every === 'string') return { skipped: every };
  try {
    const costs = { coordinatorOnly: rowCosts(only, rows), everyNode: rowCosts(every, rows) };
    const ceilings = projectCeilings(costs.coordinatorOnly, costs.everyNode, PROJECTED_WORKERS);
    return { costs, ceilings, text: projectionText(costs.coordinatorOnly, costs.everyNode, ceilings) };
  } catch (err) {
    return { skipped: (err as Error).message };
  }
}

// The ingest ceiling of a larger cluster, projected from the per-node CPU of the two measured loads
// (coordinator-only entry and every-node entry) when each node has one core of its own. Pure
// arithmetic; bench/README.md and docs/entry-nodes.md state the model and what it leaves out.
//
// Each row costs an entry cost e (the node it enters at parses it, hashes its distribution column and
// sends it on) and a store cost s (the worker holding its shard writes it), both in CPU seconds.
// From one load of R rows, where node i entered r_i rows and spent C_i CPU seconds:
//   e = C_coordinator / r_coordinator   (the coordinator holds no shards: all it spends is entry)
//   s = (sum of the workers' C_i - e * rows the workers entered) / R
// For 1 coordinator + N workers, shards spread evenly, each node one core:
//   coordinator-only: the coordinator spends e on every row, each worker s / N:
//     ceiling = 1 / max(e, s / N)
//   every-node, rows entering the N + 1 nodes in turn: the coordinator spends e / (N + 1) per row,
//   each worker e / (N + 1) + s / N:
//     ceiling = 1 / (e / (N + 1) + s / N)
import { int, table } from './report.js';

/** One node's part of a measured load. */
export interface NodeLoad {
  role: 'coordinator' | 'worker';
  /** CPU seconds of the node's PostgreSQL processes over the load. */
  cpuS: number;
  /** Rows that entered Citus at this node (runs[].entryNodes). */
  rowsEntered: number;
}

/** CPU seconds per 1,000,000 rows. */
export interface RowCosts {
  /** Parse and route, paid by the node a row enters at. */
  entry: number;
  /** Write into the shard, paid by the worker holding it; the sum over all workers. */
  store: number;
}

/** The entry and store costs of one load of `rows` rows, from its nodes' CPU and where its rows entered. */
export function rowCosts(nodes: NodeLoad[], rows: number): RowCosts {
  const coordinators = nodes.filter((n) => n.role === 'coordinator');
  if (coordinators.length !== 1) throw new Error(`a load needs exactly one coordinator, got ${coordinators.length}`);
  const coordinator = coordinators[0]!;
  if (!(coordinator.rowsEntered > 0)) throw new Error('no row entered at the coordinator, so its CPU tells nothing of the entry cost');
  if (!(rows > 0)) throw new Error(`rows must be positive, got ${rows}`);
  const entryPerRow = coordinator.cpuS / coordinator.rowsEntered;
  const workers = nodes.filter((n) => n.role === 'worker');
  const workerCpu = workers.reduce((sum, n) => sum + n.cpuS, 0);
  const workerEntered = workers.reduce((sum, n) => sum + n.rowsEntered, 0);
  return { entry: entryPerRow * 1e6, store: ((workerCpu - entryPerRow * workerEntered) / rows) * 1e6 };
}

export interface Ceiling {
  workers: number;
  /** Rows per second, and which node type runs out of CPU first. */
  coordinatorOnly: { rowsPerSecond: number; limitedBy: 'coordinator' | 'workers' };
  everyNode: { rowsPerSecond: number; limitedBy: 'coordinator' | 'workers' };
  /** everyNode / coordinatorOnly. */
  gain: number;
}

/** The busiest node's CPU seconds per row sets the rate: one core gives one CPU second per second. */
function ceiling(coordinatorPerRow: number, workerPerRow: number): { rowsPerSecond: number; limitedBy: 'coordinator' | 'workers' } {
  const busiest = Math.max(coordinatorPerRow, workerPerRow);
  return { rowsPerSecond: 1 / busiest, limitedBy: coordinatorPerRow >= workerPerRow ? 'coordinator' : 'workers' };
}

/** Ceilings for 1 coordinator + N workers, each of `workerCounts`, from each mode's own measured costs. */
export function projectCeilings(coordinatorOnly: RowCosts, everyNode: RowCosts, workerCounts: number[]): Ceiling[] {
  return workerCounts.map((n) => {
    const c = { entry: coordinatorOnly.entry / 1e6, store: coordinatorOnly.store / 1e6 };
    const a = { entry: everyNode.entry / 1e6, store: everyNode.store / 1e6 };
    const only = ceiling(c.entry, c.store / n);
    const every = ceiling(a.entry / (n + 1), a.entry / (n + 1) + a.store / n);
    return { workers: n, coordinatorOnly: only, everyNode: every, gain: every.rowsPerSecond / only.rowsPerSecond };
  });
}

/** The printed projection: the costs it starts from, then one line per cluster size. */
export function projectionText(coordinatorOnly: RowCosts, everyNode: RowCosts, ceilings: Ceiling[]): string {
  const costs = (name: string, c: RowCosts): string => `  ${name}: entry ${c.entry.toFixed(2)} CPU s per 1M rows, store ${c.store.toFixed(2)} CPU s per 1M rows (all workers)`;
  const body = ceilings.map((c) => [
    `1 + ${c.workers}`,
    int(c.coordinatorOnly.rowsPerSecond),
    c.coordinatorOnly.limitedBy,
    int(c.everyNode.rowsPerSecond),
    c.everyNode.limitedBy,
    `${c.gain.toFixed(2)}x`,
  ]);
  const header = ['nodes', 'coordinator-only rows/s', 'limited by', 'every-node rows/s', 'limited by', 'every-node gain'];
  return [
    'projection: ingest ceiling with one core per node (model: bench/README.md, "The projection")',
    costs('coordinator-only load', coordinatorOnly),
    costs('every-node load', everyNode),
    table(header, body, new Set([1, 3, 5])),
  ].join('\n');
}

// The bench's per-node CPU and its projection (bench/nodeCpu.ts, bench/projection.ts) without a
// database: the arithmetic from measured per-node CPU to entry and store costs and to the ceilings of
// larger clusters, the medians the bench prints, and the /proc reading of a parent's reaped children.
import t from 'tap';
import { spawn } from 'node:child_process';
import { childrenCpuSeconds } from '../bench/measure.js';
import { entryProjection, summariseNodeCpu, type ClusterNode } from '../bench/nodeCpu.js';
import { projectCeilings, rowCosts } from '../bench/projection.js';
import type { RoundResult } from '../bench/report.js';

const M = 1_000_000;

t.test('entry and store costs from one load: the coordinator is all entry; the workers pay store plus their own entries', async (t) => {
  // Coordinator-only: 3 s at the coordinator, 2 s at each worker.
  t.same(rowCosts([{ role: 'coordinator', cpuS: 3, rowsEntered: M }, { role: 'worker', cpuS: 2, rowsEntered: 0 }, { role: 'worker', cpuS: 2, rowsEntered: 0 }], M), { entry: 3, store: 4 });
  // Every-node: the coordinator entered a quarter for 0.75 s (3 s per 1M); each worker 375,000 rows,
  // paying 1.125 s of entry beside its 2 s of store.
  const every = rowCosts([{ role: 'coordinator', cpuS: 0.75, rowsEntered: 250_000 }, { role: 'worker', cpuS: 3.125, rowsEntered: 375_000 }, { role: 'worker', cpuS: 3.125, rowsEntered: 375_000 }], M);
  t.equal(every.entry.toFixed(6), '3.000000');
  t.equal(every.store.toFixed(6), '4.000000');
  t.throws(() => rowCosts([{ role: 'worker', cpuS: 1, rowsEntered: M }], M), /exactly one coordinator/);
  t.throws(() => rowCosts([{ role: 'coordinator', cpuS: 0.1, rowsEntered: 0 }, { role: 'worker', cpuS: 5, rowsEntered: M }], M), /no row entered at the coordinator/);
});

t.test('ceilings: coordinator-only stops at the coordinator\'s entry cost, every-node divides it over N + 1 nodes', async (t) => {
  const costs = { entry: 3, store: 4 };
  const [two, eight, sixteen] = projectCeilings(costs, costs, [2, 8, 16]);
  // N = 2: coordinator-only max(3, 4/2) = 3 s per 1M; every-node 3/3 + 4/2 = 3 s per 1M at each worker.
  t.equal(Math.round(two!.coordinatorOnly.rowsPerSecond), 333_333);
  t.equal(two!.coordinatorOnly.limitedBy, 'coordinator');
  t.equal(Math.round(two!.everyNode.rowsPerSecond), 333_333);
  t.equal(two!.everyNode.limitedBy, 'workers');
  // N = 8: every-node 3/9 + 4/8 = 0.8333 s per 1M: 1,200,000 rows/s, 3.6 times the coordinator's ceiling.
  t.equal(Math.round(eight!.coordinatorOnly.rowsPerSecond), 333_333);
  t.equal(Math.round(eight!.everyNode.rowsPerSecond), 1_200_000);
  t.equal(eight!.gain.toFixed(2), '3.60');
  // N = 16: 3/17 + 4/16.
  t.equal(Math.round(sixteen!.everyNode.rowsPerSecond), Math.round(1e6 / (3 / 17 + 4 / 16)));
  // A store-heavy load is limited by the workers even through the coordinator alone: max(1, 10/2).
  const [heavy] = projectCeilings({ entry: 1, store: 10 }, { entry: 1, store: 10 }, [2]);
  t.equal(heavy!.coordinatorOnly.limitedBy, 'workers');
  t.equal(Math.round(heavy!.coordinatorOnly.rowsPerSecond), 200_000);
  // Each mode uses its own costs: a dearer every-node entry lowers only the every-node ceiling.
  const [mixed] = projectCeilings({ entry: 3, store: 4 }, { entry: 6, store: 4 }, [2]);
  t.equal(Math.round(mixed!.coordinatorOnly.rowsPerSecond), 333_333);
  t.equal(Math.round(mixed!.everyNode.rowsPerSecond), 250_000);
});

t.test('the bench\'s medians per node and the projection made from them, or why not', async (t) => {
  const nodes: ClusterNode[] = [
    { label: 'coordinator', address: 'c:1', holdsShards: false, postmasterPid: 1 },
    { label: 'worker1', address: 'w:1', holdsShards: true, postmasterPid: 2 },
    { label: 'worker2', address: 'w:2', holdsShards: true, postmasterPid: 3 },
  ];
  const round = (contender: string, n: number, cpu: number[], entered: number[] | null, valid = true): RoundResult => ({
    contender, round: n, table: 't', seconds: 10 + n, rowsPerSecond: null, mbPerSecond: null, peakRssMb: null, clientCpuS: null, sourceCpuS: null, count: M, valid,
    nodeCpu: nodes.map((node, i) => ({ node: node.label, address: node.address, cpuS: cpu[i]! })),
    extra: { entryNodes: entered && nodes.map((node, i) => ({ node: node.address, rows: entered[i]!, bytes: 0 })).filter((s) => s.rows > 0) },
  });
  const rounds = [
    round('coord', 1, [2.8, 2, 2], [M, 0, 0]),
    round('coord', 2, [3.2, 2, 2], [M, 0, 0]),
    round('all', 1, [0.75, 3.125, 3.125], [250_000, 375_000, 375_000]),
    round('all', 2, [9, 9, 9], [M / 3, M / 3, M / 3], false),
  ];
  const summaries = summariseNodeCpu(nodes, ['coord', 'all'], rounds, M);
  t.same(summaries[0]!.nodes.map((n) => [n.cpuPerMillionRows, n.rowsEntered]), [[3, M], [2, 0], [2, 0]], 'medians of the valid rounds; a node no row entered at took 0');
  t.equal(summaries[0]!.seconds, 11.5);
  t.equal(summaries[1]!.roundsValid, 1, 'the invalid round is left out');
  const projection = entryProjection(nodes, summaries, M, 'coord', 'all');
  if (!('text' in projection)) throw new Error(projection.skipped);
  t.equal(Math.round(projection.ceilings.find((c) => c.workers === 8)!.everyNode.rowsPerSecond), 1_200_000);
  t.match(projection.text, /1 \+ 8 +333,333 +coordinator +1,200,000 +workers +3\.60x/);
  t.match(entryProjection(nodes, summaries, M, 'coord', 'missing'), { skipped: 'missing has no valid round' });
  const sharded = nodes.map((n) => ({ ...n, holdsShards: true }));
  t.match(entryProjection(sharded, summaries, M, 'coord', 'all'), { skipped: /coordinator holds shards/ });
});

t.test('childrenCpuSeconds counts a child that started and exited between two readings', async (t) => {
  const before = await childrenCpuSeconds(process.pid);
  t.type(before, 'number');
  // A child burning 0.4 s of its own CPU, then exiting; node reaps it, so it lands in this process's cutime.
  const burn = 'for (;;) { const u = process.cpuUsage(); if (u.user + u.system >= 400_000) break; }';
  const child = spawn(process.execPath, ['-e', burn], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  const after = await childrenCpuSeconds(process.pid);
  t.ok(after! - before! >= 0.38, `the exited child's CPU is counted (${(after! - before!).toFixed(2)} s)`);
});

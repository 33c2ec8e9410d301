// The nodes a load enters Citus at (target.entryNodes, docs/entry-nodes.md). Through the coordinator
// alone, one node parses and routes every row of every load; since Citus 11 every node with metadata
// can take a COPY into a distributed table and route it the same way, so the files (and chunks) of a
// job can go to the coordinator and each worker in turn, each in its own transaction on that node,
// with its ledger row (migration 0080 makes the ledgers reachable from every node).
//
// This module is the one place that knows the nodes: it reads pg_dist_node at each run (a Patroni
// failover changes a group's primary there), turns each node into a URL (CITUS_NODE_URLS, or
// DATABASE_URL's credentials at the node's host and port), checks that each answers, decides "auto"
// with a reason the run keeps, and keeps one pool per node for the worker process.
import type { CitusNodeUrls } from '../config.js';
import { createPool, type Pool, type PoolClient, type PoolMode } from '../db/pool.js';
import { IngestError } from '../errors.js';
import type { JobSpec } from '../jobs/spec.js';
import { LoadSessions, type Sessions } from '../load/sessions.js';
import type { Logger } from '../log.js';
import { citusVersion, distributionOf } from './citus.js';
import { tagEntryNode } from './entryNodeTag.js';

export type EntryNodesSetting = NonNullable<JobSpec['target']['entryNodes']>;

/** How a run chose its entry nodes; kept in runs.entry_choice. */
export interface EntryChoice {
  requested: EntryNodesSetting;
  used: 'coordinator' | 'all';
  /** Why: for "auto", what made it pick; for "coordinator", what stood in the way, or that it was asked. */
  reason: string;
  /** The entry nodes as pg_dist_node names them ("host:port"), the coordinator first. */
  nodes: string[];
}

export interface EntryRoute {
  /** Undefined on PostgreSQL without Citus, where there is one node and nothing to choose. */
  choice: EntryChoice | undefined;
  /**
   * Sessions handing out each file's (or chunk lane's) connection at the entry nodes in turn;
   * undefined when the load enters at the coordinator only (the caller's own sessions, as before).
   */
  sessions(table: string, perWorker: number): Sessions | undefined;
}

interface NodeRow {
  name: string;
  host: string;
  port: number;
  groupid: number;
  synced: boolean;
}

/** How long a node may take to answer the readiness query before it counts as not answering. */
const ANSWER_TIMEOUT_MS = 5_000;

/** The ledger tables a load writes inside its transaction: Citus tables when migration 0080 made them so. */
const LEDGER_TABLES = ['ingest.file_ledger', 'ingest.chunk_ledger', 'ingest.run_files'];

/** The URL of a node: CITUS_NODE_URLS's own entry for it, its template, or DATABASE_URL at its address. */
export function nodeUrl(databaseUrl: string, settings: CitusNodeUrls, host: string, port: number): string {
  const named = settings.urls[`${host}:${port}`];
  if (named) return named;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  if (settings.template) return settings.template.replaceAll('{host}', hostPart).replaceAll('{port}', String(port));
  const url = new URL(databaseUrl);
  url.hostname = hostPart;
  url.port = String(port);
  return url.toString();
}

/** One pool per entry node, for the life of a worker process. */
export class EntryNodePools {
  private readonly pools = new Map<string, Pool>();
  private turns = 0;

  constructor(
    private readonly o: {
      databaseUrl: string;
      citusNodeUrls: CitusNodeUrls;
      /** Connections per node pool (as many as DATABASE_URL's pool). */
      max: number;
      poolMode: PoolMode;
    },
  ) {}

  /** The pool for a node, created on first use; its clients carry the node's name (entryNodeTag.ts). */
  poolFor(node: NodeRow): Pool {
    const url = nodeUrl(this.o.databaseUrl, this.o.citusNodeUrls, node.host, node.port);
    const key = `${node.name} ${url}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = createPool(url, { max: this.o.max, applicationName: 'citus-ingest-entry', poolMode: this.o.poolMode });
      pool.on('connect', (client) => tagEntryNode(client, node.name));
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Where a run's first session goes: runs take turns, so single-file jobs spread over the nodes too. */
  nextTurn(): number {
    return this.turns++;
  }

  /** DATABASE_URL's host:port, the coordinator's name where pg_dist_node does not list it. */
  get databaseAddress(): string {
    return new URL(this.o.databaseUrl).host;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
  }
}

/** A reason the load cannot enter at every node, and whether waiting (a retry) may cure it. */
class Unfit {
  constructor(
    readonly reason: string,
    readonly transient = false,
  ) {}
}

/**
 * Decides where a run's loads enter. `coordinator`: DATABASE_URL's pool. `pools` undefined (a process
 * without entry-node pools) means the coordinator. Throws ENTRY_NODES_UNSUPPORTED or
 * ENTRY_NODES_UNAVAILABLE when the job asks for "all" and the cluster cannot give it. `retry`: an
 * earlier attempt of the job failed, so its two-phase commits may be in doubt (recoverInDoubt).
 */
export async function chooseEntryNodes(
  pools: EntryNodePools | undefined,
  coordinator: Pool,
  spec: JobSpec,
  targetOid: number | undefined,
  log: Logger,
  retry = false,
): Promise<EntryRoute> {
  const requested: EntryNodesSetting = spec.target.entryNodes ?? 'auto';
  const fallback = pools?.databaseAddress ?? 'coordinator';
  if (!(await citusVersion(coordinator))) {
    if (requested === 'all') throw new IngestError('ENTRY_NODES_UNSUPPORTED', 'target.entryNodes is "all" but the database has no citus extension');
    return { choice: undefined, sessions: () => undefined };
  }
  // A retry through the coordinator settles what an earlier attempt left in doubt there too (the
  // coordinator starts those transactions, and recovers them on every worker).
  const throughCoordinator = async (choice: EntryChoice): Promise<EntryRoute> => {
    if (retry) await recoverInDoubt([{ name: choice.nodes[0] ?? fallback, pool: coordinator }], log);
    return coordinatorRoute(choice);
  };
  if (requested === 'coordinator') return throughCoordinator({ requested, used: 'coordinator', reason: 'target.entryNodes is "coordinator"', nodes: [fallback] });
  const found = await everyNode(pools, coordinator, spec, targetOid, requested);
  if (found instanceof Unfit) {
    if (requested === 'all') {
      throw new IngestError(found.transient ? 'ENTRY_NODES_UNAVAILABLE' : 'ENTRY_NODES_UNSUPPORTED', `target.entryNodes is "all" but ${found.reason}`);
    }
    const choice: EntryChoice = { requested, used: 'coordinator', reason: found.reason, nodes: [(await coordinatorName(coordinator)) ?? fallback] };
    log.info({ entryNodes: choice }, `loading through the coordinator only: ${found.reason}`);
    return throughCoordinator(choice);
  }
  const choice: EntryChoice = {
    requested,
    used: 'all',
    reason: requested === 'auto' ? 'the target is distributed and every node has metadata and answers' : 'target.entryNodes is "all"',
    nodes: found.map((n) => n.name),
  };
  log.info({ entryNodes: choice }, 'loading through every node');
  if (retry) await recoverInDoubt(found, log);
  const first = pools?.nextTurn() ?? 0;
  return {
    choice,
    sessions: (table, perWorker) => new NodeSessions(found.map((n) => new LoadSessions(n.pool, table, perWorker)), first),
  };
}

/**
 * A node lost between a transaction's PREPARE and its COMMIT PREPARED (a worker stopped or killed
 * mid-load) leaves that transaction's part there prepared: committed, if the node it entered at
 * committed (its ledger row says the chunk is loaded, yet its rows on that worker are not visible), or
 * to be rolled back (holding its rows' keys, so the retry's COPY of the same rows waits). Citus's
 * maintenance daemon settles them only every citus.recover_2pc_interval (1 min), on the node that
 * started each transaction; a retry settles them at once on every entry node, before it loads, so the
 * job ends with every committed row visible. Not fatal: where it cannot (no permission), the daemon will.
 */
async function recoverInDoubt(nodes: Array<{ name: string; pool: Pool }>, log: Logger): Promise<void> {
  for (const node of nodes) {
    try {
      const { rows } = await node.pool.query<{ n: number }>('SELECT pg_catalog.recover_prepared_transactions() AS n');
      if (rows[0]!.n > 0) log.info({ node: node.name, recovered: rows[0]!.n }, 'settled prepared transactions an earlier attempt left in doubt');
    } catch (err) {
      log.warn({ err, node: node.name }, 'could not recover prepared transactions; Citus\'s maintenance daemon will');
    }
  }
}

function coordinatorRoute(choice: EntryChoice): EntryRoute {
  return { choice, sessions: () => undefined };
}

async function coordinatorName(db: Pool): Promise<string | undefined> {
  const { rows } = await db.query<{ name: string }>(`SELECT nodename || ':' || nodeport AS name FROM pg_catalog.pg_dist_node WHERE groupid = 0 AND noderole = 'primary' LIMIT 1`);
  return rows[0]?.name;
}

/** Every entry node with its pool, the coordinator first (through DATABASE_URL), or why not. */
async function everyNode(
  pools: EntryNodePools | undefined,
  coordinator: Pool,
  spec: JobSpec,
  targetOid: number | undefined,
  requested: EntryNodesSetting,
): Promise<Array<{ name: string; pool: Pool }> | Unfit> {
  if (spec.atomicity === 'job' || (spec.mode !== undefined && spec.mode !== 'append')) {
    return new Unfit(`mode "${spec.mode ?? 'append'}" with atomicity "${spec.atomicity ?? 'file'}" commits through one transaction on the coordinator`);
  }
  if (!pools) return new Unfit('this process keeps no entry-node pools');
  if (targetOid === undefined) return new Unfit('the target table does not exist yet');
  const type = (await distributionOf(coordinator, targetOid)).type;
  if (type !== 'distributed' && !(requested === 'all' && type === 'reference')) {
    return new Unfit(`the target is ${type === 'local' ? 'not a Citus table' : `a ${type} table`}: only a distributed table's rows are parsed and routed by the node they enter at`);
  }
  const ledgers = await coordinator.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_catalog.pg_dist_partition WHERE logicalrelid IN (SELECT to_regclass(t) FROM unnest($1::text[]) AS t)',
    [LEDGER_TABLES],
  );
  if (ledgers.rows[0]!.n < LEDGER_TABLES.length) {
    return new Unfit('the ledger tables are not Citus tables, so the workers cannot write them (migration 0080 found the coordinator outside pg_dist_node: see docs/entry-nodes.md)');
  }
  const { rows } = await coordinator.query<NodeRow>(
    `SELECT nodename || ':' || nodeport AS name, nodename AS host, nodeport AS port, groupid, hasmetadata AND metadatasynced AS synced
       FROM pg_catalog.pg_dist_node WHERE isactive AND noderole = 'primary' AND nodecluster = 'default' ORDER BY groupid, nodeid`,
  );
  const workers = rows.filter((r) => r.groupid !== 0);
  if (workers.length === 0) return new Unfit('pg_dist_node lists no active primary worker');
  const unsynced = workers.filter((r) => !r.synced);
  if (unsynced.length > 0) return new Unfit(`${unsynced.map((r) => r.name).join(', ')} has no synced metadata (citus_activate_node, or wait for metadata sync)`);
  const nodes = workers.map((r) => ({ name: r.name, pool: pools.poolFor(r) }));
  const silent = (await Promise.all(nodes.map(async (n) => ((await answers(n.pool)) ? undefined : n.name)))).filter((n) => n !== undefined);
  if (silent.length > 0) return new Unfit(`${silent.join(', ')} did not answer or is still in recovery (check CITUS_NODE_URLS and the node's max_connections)`, true);
  const coordinatorRow = rows.find((r) => r.groupid === 0);
  return [{ name: coordinatorRow?.name ?? pools.databaseAddress, pool: coordinator }, ...nodes];
}

/** Does a node take a connection, see the ledger (its metadata) and take writes, within ANSWER_TIMEOUT_MS? */
async function answers(pool: Pool): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ANSWER_TIMEOUT_MS);
  });
  const asked = pool
    // A node still in recovery takes connections but no writes: Patroni restarts a lost primary as a
    // standby first, and Citus refuses a COPY entering there ("writing to worker nodes is not currently allowed").
    .query<{ ok: boolean }>(`SELECT to_regclass('ingest.file_ledger') IS NOT NULL AND NOT pg_catalog.pg_is_in_recovery() AS ok`)
    .then((r) => r.rows[0]?.ok === true, () => false);
  try {
    return await Promise.race([asked, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sessions over every entry node: each take goes to the next node in turn, so a job's files (and a
 * chunked object's lanes) spread over the nodes; each node keeps its own sessions (LoadSessions).
 */
class NodeSessions implements Sessions {
  private readonly owner = new Map<PoolClient, LoadSessions>();

  constructor(
    private readonly nodes: LoadSessions[],
    /** The turn of the first take: the index of its node, modulo the node count. */
    private next: number,
  ) {}

  async take(): Promise<PoolClient> {
    const node = this.nodes[this.next++ % this.nodes.length]!;
    const client = await node.take();
    this.owner.set(client, node);
    return client;
  }

  give(client: PoolClient, broken: boolean): void {
    const node = this.owner.get(client);
    this.owner.delete(client);
    if (node) node.give(client, broken);
    else client.release(broken);
  }

  async close(): Promise<void> {
    for (const node of this.nodes) await node.close();
  }
}

// Mode "merge" at the level of a run: merges into one target never overlap (a session advisory lock
// held for the run, so a schedule's next tick waits for the previous tick's merge), the files go in
// order (by name, or by last-modified time), a file older than one already merged is refused before
// anything loads, and each file's merge is recorded in ingest.merge_log in its own transaction.
import type { Pool, PoolClient } from '../db/pool.js';
import { IngestError } from '../errors.js';
import { specDefaults, type JobSpec } from '../jobs/spec.js';
import type { MergeCounts } from '../sql/jobRows.js';
import { mergedFiles, recordMerge, type MergedFile } from '../sql/mergeLog.js';
import { parseSourceUrl, sourceUrl } from '../sources/registry.js';
import type { ObjectInfo } from '../sources/source.js';
import { applyMerge, createMergeStage, dropMergeStage, type MergeStage } from './mergeStage.js';

/** How often a merge waiting for an earlier one into the same target checks again (and for a cancel). */
const LOCK_POLL_MS = 250;

export interface MergeRun {
  /** The run's objects in merge order. */
  objects: ObjectInfo[];
  stage: MergeStage;
  /** Milliseconds spent waiting for an earlier merge into the same target. */
  waitedMs: number;
  /** loadFile's merge step for one object. */
  mergeFor(object: ObjectInfo): (client: PoolClient, rejected: number) => Promise<MergeCounts>;
  /** Drops the stage and lets the next merge into the target go. */
  end(): Promise<void>;
}

type Ordered = Pick<ObjectInfo, 'key'> & { lastModified?: Date | undefined };

/** Compares two files in merge order: by name, or by last-modified time and then name. */
export function compareForMerge(order: JobSpec['order'], a: Ordered, b: Ordered): number {
  if (order === 'lastModified') {
    const d = (a.lastModified?.getTime() ?? 0) - (b.lastModified?.getTime() ?? 0);
    if (d !== 0) return d;
  }
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The key prefix a merge's order is kept under: the source prefix, or the directory of a single object. */
export function mergeScope(url: string): { scheme: string; container: string; prefix: string } {
  const { scheme, container, key } = parseSourceUrl(url.endsWith('/') ? `${url}x` : url);
  const slash = key.lastIndexOf('/');
  return { scheme, container, prefix: slash === -1 ? '' : key.slice(0, slash + 1) };
}

async function lockTarget(pool: Pool, target: string, signal: AbortSignal): Promise<PoolClient> {
  const client = await pool.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended('citus-ingest merge ' || $1, 0)) AS ok`, [target]);
      if (rows[0]!.ok) return client;
      if (signal.aborted) throw signal.reason;
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  } catch (err) {
    client.release();
    throw err;
  }
}

/** Refuses the first file that is not merged yet but sorts before the newest file merged. */
function checkOrder(spec: JobSpec, objects: ObjectInfo[], merged: MergedFile[], table: string): void {
  if (merged.length === 0) return;
  const newest = merged.reduce((a, b) => (compareForMerge(spec.order, a, b) >= 0 ? a : b));
  const done = new Set(merged.map((m) => `${m.key}\u0000${m.version}`));
  const older = objects.find((o) => !done.has(`${o.key}\u0000${o.version}`) && compareForMerge(spec.order, o, newest) < 0);
  if (older) {
    throw new IngestError(
      'MERGE_OUT_OF_ORDER',
      `${sourceUrl(older)} comes before ${sourceUrl(newest)}, already merged into ${table} ` +
        `(order "${spec.order ?? specDefaults.order}"): merging it now would apply older changes over newer ones. Nothing was merged; set "reload": true to merge it anyway.`,
      { url: sourceUrl(older), newestMerged: sourceUrl(newest), order: spec.order ?? specDefaults.order },
    );
  }
}

export async function startMerge(
  pool: Pool,
  spec: JobSpec,
  ids: { jobId: string; runId: string; target: string },
  objects: ObjectInfo[],
  signal: AbortSignal,
): Promise<MergeRun> {
  const started = performance.now();
  const lock = await lockTarget(pool, ids.target, signal);
  const waitedMs = performance.now() - started;
  let stage: MergeStage | undefined;
  const end = async (): Promise<void> => {
    await dropMergeStage(pool, ids.jobId).catch(() => {});
    await lock.query(`SELECT pg_advisory_unlock(hashtextextended('citus-ingest merge ' || $1, 0))`, [ids.target]).catch(() => {});
    lock.release();
  };
  try {
    const ordered = [...objects].sort((a, b) => compareForMerge(spec.order, a, b));
    if (!spec.reload) {
      const scope = mergeScope(spec.source.url);
      checkOrder(spec, ordered, await mergedFiles(pool, ids.target, scope), spec.target.table);
    }
    stage = await createMergeStage(pool, spec, ids.jobId);
    const s = stage;
    return {
      objects: ordered,
      stage: s,
      waitedMs,
      mergeFor: (object) => async (client, rejected) => {
        const counts = { ...(await applyMerge(client, s)), rejected };
        await recordMerge(client, ids.target, { scheme: object.scheme, container: object.container, key: object.key, version: object.version, lastModified: object.lastModified }, ids, counts);
        return counts;
      },
      end,
    };
  } catch (err) {
    await end();
    throw err;
  }
}

/** Sums the files' merge counts for the job's result. */
export function sumMergeCounts(counts: Array<MergeCounts | undefined>): MergeCounts {
  const total: MergeCounts = { inserted: 0, updated: 0, deleted: 0, deleteMissing: 0, rejected: 0 };
  for (const c of counts) {
    if (!c) continue;
    for (const k of Object.keys(total) as Array<keyof MergeCounts>) total[k] += c[k];
  }
  return total;
}

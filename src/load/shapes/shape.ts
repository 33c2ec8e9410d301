// The load-shape seam. A shape is how a run's objects become rows in the target and what a failure
// leaves behind: one transaction per file (file), per chunk (chunk), one publish at the end (staged),
// a merge per file in order (merge), or nothing at all (a dry run's validate). runJob lists the objects,
// skips what the ledger holds, keeps progress and writes the run's end; everything that differs between
// shapes is behind this interface, and registry.ts picks the shape for a spec.
import type { Pool } from '../../db/pool.js';
import { specDefaults, type JobSpec } from '../../jobs/spec.js';
import type { Logger } from '../../log.js';
import type { EntryRoute } from '../../sink/entryNodes.js';
import type { Listing } from '../../sources/listing.js';
import type { ObjectInfo, ObjectSource } from '../../sources/source.js';
import type { MergeCounts } from '../../sql/jobRows.js';
import type { FileProgress, FileResult } from '../objectLoad.js';
import type { RunTotals } from '../runTotals.js';
import type { StageTimer } from '../stageTimer.js';

/** Who a run is: the job, the run, and the target table as stored ("schema"."table"). */
export interface RunIds {
  jobId: string;
  runId: string;
  target: string;
}

/** What a shape is prepared with: the run, its spec and target, and where time is recorded. */
export interface ShapeContext {
  pool: Pool;
  log: Logger;
  spec: JobSpec;
  ids: RunIds;
  /** The target's OID once prepareTarget resolved it (undefined on a dry run of a table still to create). */
  targetOid: number | undefined;
  signal: AbortSignal;
  timer: StageTimer;
  /** The run's objects as listed. */
  listing: Listing;
  /** RECORD_MAX_BYTES: the most one record may take in a decoder. */
  recordMaxBytes: number;
  /** Where the run's loads enter Citus: the coordinator, or every node in turn (sink/entryNodes.ts). */
  entry: EntryRoute;
}

/** One object's load, as the run hands it to the shape. */
export interface ObjectLoad {
  object: ObjectInfo;
  source: ObjectSource;
  onProgress: (p: FileProgress) => void;
}

/** What a shape adds to the run's end once every object is in. */
export interface ShapeEnd {
  /** Rows the run reports as loaded (a dry run loads none). */
  rowsLoaded: number;
  /** Whether the target changed: a table that did gets analyzed (when asked) and its shard layout shown. */
  changedTarget: boolean;
  /** Fields added to the job's result: `published`, `merge`, `dryRun`. */
  result: { published?: { mode: string; rows: number }; merge?: MergeCounts; dryRun?: Record<string, number> };
}

export interface LoadShape {
  /** The objects in the order this shape loads them (a merge collects and sorts the whole listing). */
  readonly objects: Listing;
  /** Objects loading at once. */
  readonly concurrency: number;
  /** True when each loaded object is committed as it finishes (a failure later leaves it loaded). */
  readonly commitsEachObject: boolean;
  /** Loads one object; resolves with what it did, rejects with why not. */
  load(load: ObjectLoad): Promise<FileResult>;
  /**
   * Every object is through (loaded, or the run failed): gives back the sessions the loads kept, before
   * the publish and the run's end need connections of the same pool.
   */
  release(): Promise<void>;
  /** Every object is in: make the run's rows visible (staged: publish) and say what the run did. */
  finish(totals: RunTotals): Promise<ShapeEnd>;
  /** The run failed or was cancelled: undo what the shape set up (a stage, a merge's lock). */
  abort(): Promise<void>;
  /** Always called last: gives back what the shape still holds (a merge's lock and stage). */
  close(): Promise<void>;
}

/** Objects a run loads at once, as its spec asks (a merge overrides it: one at a time). */
export function objectsAtOnce(spec: JobSpec): number {
  return Math.max(1, spec.concurrency ?? specDefaults.concurrency);
}

/** Prepares a shape for one run (creates a stage, takes a merge's lock). */
export type ShapeFactory = (ctx: ShapeContext) => Promise<LoadShape>;

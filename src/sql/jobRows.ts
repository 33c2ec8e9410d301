// The shapes of ingest.jobs / ingest.runs / ingest.run_files rows as the API shows them, and the
// mapping from database rows. Shared by every query module that reads them.
import type { ErrorBody } from '../errors.js';
import type { JobSpec } from '../jobs/spec.js';
import type { ShardLayout } from '../sink/citus.js';
import type { EntryChoice } from '../sink/entryNodes.js';
import type { EntryNodeShare } from './runEntryNodes.js';

/** mode "merge": what a file's records (or a job's files) did to the target. */
export interface MergeCounts {
  inserted: number;
  updated: number;
  deleted: number;
  /** Delete records whose key the target did not hold. */
  deleteMissing: number;
  rejected: number;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Timings {
  queueWaitMs?: number;
  markerWaitMs?: number;
  headMs?: number;
  connectMs?: number;
  targetMs?: number;
  prepareMs?: number;
  layoutMs?: number;
  stageMs?: number;
  publishMs?: number;
  /** mode "merge": waiting for an earlier merge into the same target to end. */
  mergeWaitMs?: number;
  /** mode "merge": the merge statements of each file, inside its transaction. */
  mergeMs?: number;
  /** ANALYZE of the target (after a load, or an analyze job). */
  analyzeMs?: number;
  /** A rebalance job: from citus_rebalance_start() to its end. */
  rebalanceMs?: number;
  ledgerMs?: number;
  firstByteMs?: number;
  copyMs?: number;
  /** Parts of copyMs: framing bytes, waiting on PostgreSQL, waiting on object storage. */
  scanMs?: number;
  copyWaitMs?: number;
  sourceWaitMs?: number;
  commitMs?: number;
  totalMs?: number;
}

export interface RunFile {
  /** The object's URL. */
  url: string;
  scheme: string;
  /** The bucket, "account/container" (az), "host[:port]" (https) or "" (file). */
  container: string;
  key: string;
  /** The ETag (or what stands for it) the object had when it was read. */
  version: string;
  size: number;
  status: 'running' | 'loaded' | 'skipped' | 'failed' | 'cancelled';
  rowsLoaded: number;
  rowsRejected: number;
  blankLines: number;
  bytesRead: number;
  loadedByRun: string | null;
  timings: Timings;
  error: ErrorBody | null;
  /** mode "merge": what the file's records did. */
  merge?: MergeCounts;
}

export interface Run {
  id: string;
  attempt: number;
  worker: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  rowsLoaded: number;
  rowsRejected: number;
  bytesRead: number;
  rowsPerSecond: number | null;
  mbPerSecond: number | null;
  timings: Timings;
  error: ErrorBody | null;
  /** The target's shard layout after the run (Citus only). */
  shardLayout: ShardLayout | null;
  /** What each node the run's loads entered at took (sql/runEntryNodes.ts); null until the run succeeded. */
  entryNodes: EntryNodeShare[] | null;
  /** How the run chose its entry nodes, and why (sink/entryNodes.ts). */
  entryChoice: EntryChoice | null;
  /** Progress samples taken during the run: [elapsed ms, rows, bytes]. */
  samples: Array<[number, number, number]>;
  /** The first FILES_INLINE files of the run; GET /jobs/:id/files pages through all of them. */
  files: RunFile[];
  /** How many files the run recorded. */
  fileCount: number;
}

export interface Job {
  id: string;
  status: JobStatus;
  target: string;
  sourceUrl: string;
  spec: JobSpec;
  schedule: string | null;
  attempts: number;
  cancelRequested: boolean;
  progress: {
    bytesRead: number;
    /** Null until the listing is complete (and for table operations). */
    bytesTotal: number | null;
    rowsLoaded: number;
    /** A load's listing: "in progress" while later pages are listed as the first ones load; null before it starts. */
    listing: 'in progress' | 'complete' | null;
    /** Objects the running (or last) attempt has listed so far; the total once `listing` is "complete". */
    objectsListed: number | null;
  };
  error: ErrorBody | null;
  result: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobRow {
  id: string;
  status: JobStatus;
  target: string;
  source_url: string;
  spec: JobSpec;
  schedule: string | null;
  spec_hash: string;
  idempotency_key: string | null;
  attempts: number;
  cancel_requested: boolean;
  bytes_read: number;
  bytes_total: number | null;
  rows_loaded: number;
  objects_listed: number | null;
  listing_complete: boolean | null;
  error: ErrorBody | null;
  result: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function jobFromRow(r: JobRow): Job {
  return {
    id: r.id,
    status: r.status,
    target: r.target,
    sourceUrl: r.source_url,
    spec: r.spec,
    schedule: r.schedule,
    attempts: r.attempts,
    cancelRequested: r.cancel_requested,
    progress: {
      bytesRead: r.bytes_read,
      bytesTotal: r.bytes_total,
      rowsLoaded: r.rows_loaded,
      listing: r.listing_complete == null ? null : r.listing_complete ? 'complete' : 'in progress',
      objectsListed: r.objects_listed ?? null,
    },
    error: r.error,
    result: r.result,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}

export interface RunRow {
  id: string;
  attempt: number;
  worker: string;
  status: RunStatus;
  started_at: Date;
  finished_at: Date | null;
  rows_loaded: number;
  rows_rejected: number;
  bytes_read: number;
  timings: Timings;
  error: ErrorBody | null;
  shard_layout: ShardLayout | null;
  entry_nodes?: EntryNodeShare[] | null;
  entry_choice?: EntryChoice | null;
  samples: Array<[number, number, number]>;
}

export function runFromRow(r: RunRow, files: RunFile[], fileCount = files.length): Run {
  const seconds = (r.timings.totalMs ?? 0) / 1000;
  const done = r.finished_at !== null && seconds > 0;
  return {
    id: r.id,
    attempt: r.attempt,
    worker: r.worker,
    status: r.status,
    startedAt: r.started_at.toISOString(),
    finishedAt: iso(r.finished_at),
    rowsLoaded: r.rows_loaded,
    rowsRejected: r.rows_rejected,
    bytesRead: r.bytes_read,
    rowsPerSecond: done ? Math.round(r.rows_loaded / seconds) : null,
    mbPerSecond: done ? Math.round((r.bytes_read / 1e6 / seconds) * 100) / 100 : null,
    timings: r.timings,
    error: r.error,
    shardLayout: r.shard_layout,
    entryNodes: r.entry_nodes ?? null,
    entryChoice: r.entry_choice ?? null,
    samples: r.samples,
    files,
    fileCount,
  };
}

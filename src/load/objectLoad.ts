// The per-object core every atomicity shape shares (load/loadFile.ts: one transaction per file;
// load/loadChunked.ts: one per chunk; atomicity "job" goes through loadFile into a stage): who the
// object is in the ledger, where its rejects go and when they exceed the budget, the check that every
// record sent was loaded or rejected, and the "already loaded" result. The shapes keep only their
// transactions.
import type { Pool } from '../db/pool.js';
import type { RecordDecoder } from '../decode/decoder.js';
import { IngestError } from '../errors.js';
import type { JobSpec } from '../jobs/spec.js';
import type { Reject } from '../sink/reject.js';
import type { ObjectInfo } from '../sources/source.js';
import type { LedgerKey } from '../sql/fileLedger.js';
import type { MergeCounts, Timings } from '../sql/jobRows.js';
import { insertReject, insertRejects } from '../sql/rejects.js';

/** Rejects written by one INSERT. */
const REJECTS_PER_INSERT = 1000;

export interface FileProgress {
  /** Bytes read from object storage (compressed bytes for a gzip object). */
  bytes: number;
  /** Records sent to COPY so far. */
  records: number;
}

export interface FileResult {
  status: 'loaded' | 'skipped' | 'validated';
  rowsLoaded: number;
  rowsRejected: number;
  blankLines: number;
  bytesRead: number;
  timings: Timings;
  /** The first rejects (at most 5), for the job's result. */
  firstRejects: Reject[];
  /** atomicity "chunk": chunks loaded by this run, and chunks (and their rows) an earlier attempt loaded. */
  chunks?: { loaded: number; skipped: number; rowsSkipped: number };
  /** mode "merge": what the file's records did to the target. */
  merge?: MergeCounts;
  /** For a skipped object: the run, job and time that loaded it. */
  loadedBy?: { runId: string; jobId: string; loadedAt: string; rowsLoaded: number };
}

/** The ledger's key for an object loaded into a target table. */
export function ledgerKeyOf(target: string, object: ObjectInfo, targetOid: number): LedgerKey {
  return { target, scheme: object.scheme, container: object.container, key: object.key, version: object.version, size: object.size, targetOid };
}

/** The result for an object the ledger already holds for the target: nothing read, nothing loaded. */
export function skippedResult(loadedBy: NonNullable<FileResult['loadedBy']>, timings: Timings = {}): FileResult {
  return { status: 'skipped', rowsLoaded: 0, rowsRejected: 0, blankLines: 0, bytesRead: 0, firstRejects: [], timings, loadedBy };
}

/** What a rolled-back unit leaves behind, per atomicity, for messages. */
const rolledBack = {
  file: 'the whole file was rolled back',
  chunk: 'the chunk being loaded was rolled back, chunks committed before stay (atomicity "chunk")',
} as const;

/**
 * An object's rejects: each is mapped to its place in the source (the decoder knows it), recorded
 * at once on its own connection (so a unit that rolls back still shows why), and counted against the
 * job's error budget (maxErrors per file, maxErrorRatio over the file's records).
 */
export class ObjectRejects {
  count = 0;
  /** The first rejects (at most 5), for the job's result. */
  readonly first: Reject[] = [];

  constructor(
    private readonly o: {
      pool: Pool;
      spec: JobSpec;
      jobId: string;
      runId: string;
      object: ObjectInfo;
      url: string;
      unit: keyof typeof rolledBack;
      /** A dry run reports every reject and never stops at the budget. */
      dryRun: boolean;
    },
  ) {}

  /** The decoder whose positions the rejects carry (set once it exists). */
  decoder: RecordDecoder | undefined;

  /** Records a reject; throws ERROR_BUDGET_EXCEEDED once more than maxErrors were rejected. */
  async add(raw: Reject): Promise<void> {
    await this.addAll([raw]);
    await this.flushed();
  }

  /** The rejects being written: addAll hands them over and the load goes on meanwhile. */
  private writing: Promise<void> = Promise.resolve();
  private writeError: unknown;

  /**
   * Records rejects in file order, in one statement per hundreds of them, written while the load goes
   * on (one list at a time: this waits for the list before); throws ERROR_BUDGET_EXCEEDED once more
   * than maxErrors were rejected (the rejects past the one that went over are not recorded).
   */
  async addAll(raws: Reject[]): Promise<void> {
    if (raws.length === 0) return;
    const { maxErrors } = this.o.spec;
    const room = this.o.dryRun ? raws.length : Math.max(0, Math.min(raws.length, maxErrors + 1 - this.count));
    const list = raws.slice(0, Math.max(1, room)).map((r) => this.placed(r));
    this.count += list.length;
    for (const reject of list.slice(0, 5 - this.first.length)) this.first.push(reject);
    const before = this.writing;
    this.writing = before.then(() => this.write(list)).catch((err: unknown) => {
      this.writeError ??= err;
    });
    await before;
    if (this.writeError !== undefined) throw this.writeError;
    const reject = list[list.length - 1]!;
    if (!this.o.dryRun && this.count > maxErrors) {
      await this.flushed();
      throw new IngestError(
        'ERROR_BUDGET_EXCEEDED',
        `${this.o.url}: more than maxErrors=${maxErrors} records rejected (the last ${where(reject)}: ${reject.message}); ${rolledBack[this.o.unit]}. GET /jobs/:id/rejects lists them.`,
        { url: this.o.url, maxErrors, rejected: this.count, ...(reject.line !== null ? { line: reject.line } : {}), ...(reject.position ? { position: reject.position } : {}) },
      );
    }
  }

  /** Waits for the rejects handed to addAll to be written; throws if writing them failed. */
  async flushed(): Promise<void> {
    await this.writing;
    if (this.writeError !== undefined) throw this.writeError;
  }

  private async write(list: Reject[]): Promise<void> {
    for (let at = 0; at < list.length; at += REJECTS_PER_INSERT) {
      await insertRejects(this.o.pool, this.o.jobId, this.o.runId, this.o.object, list.slice(at, at + REJECTS_PER_INSERT));
    }
  }

  /**
   * The record a failed single COPY named (the load fails with it): recorded like any reject, but a
   * failure to record it must not hide the load's own error, so it is attached to that error instead.
   */
  async recordFailed(err: unknown): Promise<void> {
    const single = (err as { reject?: Reject }).reject;
    if (!single) return;
    try {
      await insertReject(this.o.pool, this.o.jobId, this.o.runId, this.o.object, this.placed(single));
    } catch (insertErr) {
      Object.assign(err as object, { rejectNotRecorded: (insertErr as Error).message });
    }
  }

  /**
   * Counts records an earlier attempt rejected in a unit it committed (atomicity "chunk": a chunk the
   * ledger holds is skipped, so PostgreSQL never refuses its bad records again). They are the file's
   * rejects all the same: counted in its reconciliation and against maxErrors (recorded already, by
   * that attempt).
   */
  countEarlier(rejected: number): void {
    if (rejected <= 0) return;
    this.count += rejected;
    const { maxErrors } = this.o.spec;
    if (this.o.dryRun || this.count <= maxErrors) return;
    throw new IngestError(
      'ERROR_BUDGET_EXCEEDED',
      `${this.o.url}: more than maxErrors=${maxErrors} records rejected, counting ${rejected} in chunks an earlier attempt committed; ${rolledBack[this.o.unit]}. GET /jobs/:id/rejects lists them.`,
      { url: this.o.url, maxErrors, rejected: this.count },
    );
  }

  /** Throws ERROR_BUDGET_EXCEEDED when the rejects are over maxErrorRatio of the object's records. */
  checkRatio(records: number): void {
    const ratio = this.o.spec.maxErrorRatio;
    if (this.o.dryRun || ratio === undefined || records === 0 || this.count / records <= ratio) return;
    throw new IngestError(
      'ERROR_BUDGET_EXCEEDED',
      `${this.o.url}: ${this.count} of ${records} records rejected, over maxErrorRatio=${ratio}; ${this.o.unit === 'file' ? rolledBack.file : 'chunks already committed stay (atomicity "chunk")'}`,
      { url: this.o.url, maxErrorRatio: ratio, rejected: this.count, records },
    );
  }

  /** The reject with its place in the source as the decoder tells it (Parquet: row group and row). */
  private placed(reject: Reject): Reject {
    if (!this.decoder || reject.line === null) return reject;
    const at = this.decoder.describe(reject.line, reject.byteOffset);
    return {
      ...reject,
      line: at.line,
      byteOffset: at.byteOffset,
      ...(at.absoluteRow !== undefined ? { position: { rowGroup: at.rowGroup!, row: at.row!, absoluteRow: at.absoluteRow } } : {}),
    };
  }
}

function where(reject: Reject): string {
  if (reject.line !== null) return `at line ${reject.line}`;
  if (reject.position) return `at row ${reject.position.row} of row group ${reject.position.rowGroup}`;
  return 'record';
}

/**
 * Throws RECORD_COUNT_MISMATCH unless every record sent was loaded or rejected: the one check that
 * nothing was lost or doubled between the decoder and the database. `unit` says what rolled back.
 */
export function reconcile(url: string, unit: string, counts: { sent: number; loaded: number; rejected: number }): void {
  if (counts.sent === counts.loaded + counts.rejected) return;
  throw new IngestError(
    'RECORD_COUNT_MISMATCH',
    `${url}: ${unit} sent ${counts.sent} records but PostgreSQL loaded ${counts.loaded} rows and ${counts.rejected} were rejected; nothing of it was committed`,
    { url, recordsSent: counts.sent, rowsLoaded: counts.loaded, rejected: counts.rejected },
  );
}

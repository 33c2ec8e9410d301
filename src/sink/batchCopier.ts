// Loads framed records in one transaction and isolates the ones the database refuses: a span of records
// goes in one COPY under a savepoint; when it fails on a record, it is rolled back to the savepoint and
// the bad record is found, rejected (with its original line and byte offset), and the rest goes on.
//
// Finding the record: when the error names a COPY line (PostgreSQL's own checks), that line's record
// is the bad one, the records before it are sent again, and the next COPY starts after it. When it
// names none (Citus reports a row a worker refuses without a line, and foreign keys are checked after
// the last line), the span is halved from its start until the failing record is alone. Spans double again
// after every success, so a clean stretch costs few COPYs and each bad record costs a few (with a line)
// or about log2 of the gap between bad records (without), never a resend of the rest of the batch.
// One savepoint is held throughout: released and taken again after a success, rolled back to after a
// failure, so the transaction's subtransactions (and the lock table) do not grow with the rejects.
import type { PoolClient } from '../db/pool.js';
import { recordErrorKind, type RecordErrorKind } from '../db/sqlstate.js';
import { IngestError } from '../errors.js';
import { countIsolationCopy } from '../metrics.js';
import type { RecordPositions } from '../decode/positions.js';
import { copyErrorPosition } from './copySql.js';
import { copyPieces } from './copyPieces.js';
import type { RecordProbe } from './recordProbe.js';
import { recordBytes, recordReject, type Refusal } from './batchRecords.js';
import type { Reject } from './reject.js';

const SAVEPOINT = 'citus_ingest_batch';
/** Bytes per write into a COPY, so that writing stops soon after the server refuses a record. */
const PIECE = 64 << 10;
/** The fewest records sent after a failure with a line: a bad record is rarely alone. */
const MIN_SPAN = 16;
const LF = 0x0a;
const CR = 0x0d;

/** A batch handed to the staged route: its records in memory, and where its rejects go. */
export interface StagedBatch {
  client: PoolClient;
  data: Buffer;
  base: number;
  recs: RecordPositions;
  textEncoding: BufferEncoding;
  /** The load's COPY statement into the target. */
  statement: string;
}

/** The staged route for a failed batch (batchStage.ts). */
export interface BatchStage {
  /**
   * Loads the batch through the stage. Returns the rows loaded and records rejected, or undefined when
   * the batch was not loaded (nothing of it persists; the caller isolates its records another way).
   */
  load(batch: StagedBatch): Promise<{ loaded: number; rejects: [record: number, reject: Reject][] } | undefined>;
}

export interface BatchCopierOptions {
  client: PoolClient;
  statement: () => string;
  /** Called for every rejected record, with its index in the batch. */
  onReject: (reject: Reject, record: number) => Promise<void>;
  /** Called instead of onReject, when given, for the rejects of a batch the stage loaded, in file order. */
  onRejects?: (rejects: Reject[]) => Promise<void>;
  textEncoding: BufferEncoding;
  /**
   * Sends one record by another route when its COPY failed with internal_error (Citus): the SQLSTATE
   * that route gives decides whether it is rejected. Without it, such a record fails the load.
   */
  probe?: () => RecordProbe;
  /**
   * The staged route (batchStage.ts) tried first for a batch whose COPY already failed; when it does
   * not load the batch, its records are isolated here. Without it, always here.
   */
  stage?: () => BatchStage;
  /** Called before each COPY with the index of its first record (the stage numbers records by it). */
  beforeCopy?: (first: number) => Promise<void>;
  /** Where the COPYs go, for the metrics: the load's target (default) or the stage. */
  into?: 'target' | 'stage';
}

export class BatchCopier {
  private readonly o: BatchCopierOptions;
  rowsLoaded = 0;
  rejected = 0;
  /** COPY statements sent, the failed ones included. */
  copies = 0;

  constructor(o: BatchCopierOptions) {
    this.o = o;
  }

  /**
   * Loads the records `recs` held in `data`, whose first byte sits at output offset `base`. `failure`:
   * the error a COPY of all of them already ended with (it is not sent again to learn it).
   */
  async load(data: Buffer, base: number, recs: RecordPositions, failure?: unknown): Promise<void> {
    if (recs.length === 0) return;
    const o = this.o;
    if (o.stage) {
      if (failure === undefined) {
        // One COPY of the whole batch first: a clean batch never sees the stage.
        await o.client.query(`SAVEPOINT ${SAVEPOINT}`);
        failure = await this.copyRange(data, base, recs, 0, recs.length);
        await o.client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
        if (failure === undefined) return;
      }
      if (await this.staged(data, base, recs)) return;
    }
    await this.isolate(data, base, recs, failure);
  }

  /**
   * Loads a batch of a file that has shown many bad records: through the stage without a COPY into the
   * target first (on Citus that COPY costs about as much as a clean batch, to learn it fails).
   */
  async loadDirty(data: Buffer, base: number, recs: RecordPositions): Promise<void> {
    if (recs.length === 0) return;
    if (this.o.stage && (await this.staged(data, base, recs))) return;
    await this.isolate(data, base, recs, undefined);
  }

  /** Batches the stage loaded (batchStage.ts). */
  stagedBatches = 0;

  private async staged(data: Buffer, base: number, recs: RecordPositions): Promise<boolean> {
    const o = this.o;
    const staged = await o.stage!().load({ client: o.client, data, base, recs, textEncoding: o.textEncoding, statement: o.statement() });
    if (!staged) return false;
    this.stagedBatches++;
    this.rowsLoaded += staged.loaded;
    this.rejected += staged.rejects.length;
    if (o.onRejects) await o.onRejects(staged.rejects.map(([, reject]) => reject));
    else for (const [r, reject] of staged.rejects) await o.onReject(reject, r);
    return true;
  }

  private async isolate(data: Buffer, base: number, recs: RecordPositions, failure: unknown): Promise<void> {
    await this.o.client.query(`SAVEPOINT ${SAVEPOINT}`);
    await this.loadAll(data, base, recs, failure);
    await this.o.client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
  }

  private async loadAll(data: Buffer, base: number, recs: RecordPositions, failure: unknown): Promise<void> {
    const total = recs.length;
    let a = 0;
    let span = total;
    /** A record a COPY's error named, still to be rejected once the records before it are in. */
    let named: { r: number; err: unknown } | undefined;
    /** Records [a, failEnd) hold one the database refused without naming it. */
    let failEnd = total + 1;
    /** Where the last refused record without a line was, to size the spans after it. */
    let lastIsolated = -1;
    let pending = failure;
    while (a < total) {
      if (named && named.r === a) {
        await this.reject(data, base, recs, a, named.err);
        named = undefined;
        a++;
        continue;
      }
      // Inside a span known to fail, halves; elsewhere, spans that doubled since the last failure.
      const size = failEnd <= total ? Math.max(1, (failEnd - a) >> 1) : span;
      const end = Math.min(total, a + size, named ? named.r : total);
      let err: unknown;
      if (pending !== undefined) {
        err = pending;
        pending = undefined; // rolled back already, and nothing was done since the savepoint
      } else {
        err = await this.copyRange(data, base, recs, a, end);
      }
      if (err === undefined) {
        a = end;
        // Past a failed span without finding its refused record (it failed with others only): start over.
        if (a >= failEnd) failEnd = total + 1;
        if (failEnd > total) span = Math.min(total, span * 2);
        continue;
      }
      const kind = recordErrorKind(err);
      if (kind === 'system') throw err;
      const bad = kind === 'record' ? this.recordOnLine(data, base, recs, a, end, err) : -1;
      if (bad >= 0) {
        span = Math.max(MIN_SPAN, 2 * (bad - a));
        if (bad === a) {
          await this.reject(data, base, recs, a, err);
          a++;
        } else {
          named = { r: bad, err };
        }
      } else if (end - a > 1) {
        failEnd = end;
      } else {
        await this.isolated(data, base, recs, a, err, kind);
        // The next span covers the gap seen between the last two such records, so it often holds one.
        span = Math.max(2, lastIsolated >= 0 ? a - lastIsolated : 2);
        lastIsolated = a;
        failEnd = total + 1;
        a++;
      }
    }
  }

  private slice(data: Buffer, base: number, recs: RecordPositions, a: number, b: number): Buffer {
    return recordBytes(data, base, recs, a, b);
  }

  /**
   * COPYs records [a, b) under the savepoint. Returns undefined when they all went in, the error when
   * some record may be at fault (rolled back to the savepoint), and throws any other error.
   */
  private async copyRange(data: Buffer, base: number, recs: RecordPositions, a: number, b: number): Promise<unknown | undefined> {
    const client = this.o.client;
    const bytes = this.slice(data, base, recs, a, b);
    await this.o.beforeCopy?.(a);
    this.copies++;
    countIsolationCopy(this.o.into ?? 'target');
    // Written piece by piece so that, once the server has refused a record, the rest is not sent.
    const pieces = function* () {
      for (let at = 0; at < bytes.length; at += PIECE) yield bytes.subarray(at, at + PIECE);
    };
    const { err, rowCount } = await copyPieces(client, this.o.statement(), pieces());
    if (err !== undefined) {
      if (recordErrorKind(err) === 'system') throw err;
      await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
      return err;
    }
    if (rowCount !== b - a) {
      throw new IngestError('RECORD_COUNT_MISMATCH', `a batch of ${b - a} records loaded ${rowCount} rows; nothing was committed`, {
        recordsSent: b - a,
        rowsLoaded: rowCount,
      });
    }
    await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}`);
    this.rowsLoaded += b - a;
    return undefined;
  }

  /**
   * The record among [a, b) on the line a COPY of them names, or -1. COPY counts physical lines from 1,
   * quoted line breaks included, and names the last line of a record that spans several.
   */
  private recordOnLine(data: Buffer, base: number, recs: RecordPositions, a: number, b: number, err: unknown): number {
    const line = copyErrorPosition(err as { where?: string }).record;
    if (line === undefined || line < 1) return -1;
    let seen = 0;
    for (let r = a; r < b; r++) {
      seen += Math.max(1, lineEnds(this.slice(data, base, recs, r, r + 1)));
      if (line <= seen) return r;
    }
    return -1;
  }

  /** Record `r` failed alone without a line: rejected when the error, or the probe's, says the record is at fault. */
  private async isolated(data: Buffer, base: number, recs: RecordPositions, r: number, err: unknown, kind: RecordErrorKind): Promise<void> {
    if (kind === 'record') {
      await this.reject(data, base, recs, r, err);
      return;
    }
    const probe = this.o.probe?.();
    if (!probe) throw err;
    const client = this.o.client;
    const found = await probe.insert(client, this.slice(data, base, recs, r, r + 1));
    if (found === undefined) {
      // The record went in by itself: whatever failed before did not persist.
      await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}`);
      this.rowsLoaded++;
      return;
    }
    // Refused again without a record-level SQLSTATE: not the record's fault, the load fails.
    if (recordErrorKind(found) !== 'record') throw found;
    await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    await this.reject(data, base, recs, r, found);
  }

  private async reject(data: Buffer, base: number, recs: RecordPositions, r: number, err: unknown): Promise<void> {
    this.rejected++;
    await this.o.onReject(recordReject(data, base, recs, r, err as Refusal, this.o.textEncoding), r);
  }
}

/** Line ends in `bytes` as COPY counts them: LF, CRLF and a lone CR each once. */
function lineEnds(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(LF); i >= 0; i = bytes.indexOf(LF, i + 1)) n++;
  for (let i = bytes.indexOf(CR); i >= 0; i = bytes.indexOf(CR, i + 1)) if (bytes[i + 1] !== LF) n++;
  return n;
}

// Loads one source object into the target in one transaction: resolve the target, claim the object in
// the file ledger, stream GET -> (gunzip) -> CopyLoader (framing, COPY), check that every record sent
// was either loaded or rejected, and commit the rows, the ledger entry and the run's file record
// together. A dry run does all of it and rolls back.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Pool, PoolClient } from '../db/pool.js';
import { hasSqlState, isDataError, isRetryableDbError } from '../db/sqlstate.js';
import { IngestError } from '../errors.js';
import type { JobSpec } from '../jobs/spec.js';
import type { CsvFramer } from '../scan/csvFramer.js';
import { framerFor, pipeObject, watchConnection, type SourceState } from './loadParts.js';
import type { ObjectInfo } from '../sources/s3.js';
import { claimLedgerEntry, completeLedgerEntry, type LedgerKey } from '../sql/fileLedger.js';
import type { MergeCounts, Timings } from '../sql/jobRows.js';
import { insertReject } from '../sql/rejects.js';
import { recordRunFile } from '../sql/runFiles.js';
import { CopyLoader, type Reject } from '../sink/copyLoader.js';
import { recordProbe } from '../sink/recordProbe.js';
import { copyErrorPosition, copyStatement } from '../sink/copySql.js';
import { beginLoad } from '../sink/citus.js';
import { columnsFromHeader } from '../sink/headerColumns.js';
import { resolveTarget } from '../sink/resolveTarget.js';
import { tableOid } from '../sink/prepareTarget.js';
import type { LoadSessions } from './sessions.js';
import { StageTimer } from './stageTimer.js';

export interface FileProgress {
  /** Bytes read from object storage (compressed bytes for a gzip object). */
  bytes: number;
  /** Records sent to COPY so far. */
  records: number;
}

export interface LoadFileInput {
  pool: Pool;
  s3: S3Client;
  spec: JobSpec;
  /** The job's target as stored ("schema"."table"), the ledger's target key. */
  target: string;
  object: ObjectInfo;
  jobId: string;
  runId: string;
  signal: AbortSignal;
  onProgress: (p: FileProgress) => void;
  /** Load into this table instead of the spec's (a staging table); the ledger is then the caller's. */
  stagingTable?: string;
  /** Sessions the job keeps between its files (many-file jobs); without them a pool client per file. */
  sessions?: LoadSessions;
  /**
   * mode "merge": after the COPY into `stagingTable`, merges it into the target on this transaction,
   * before the ledger row and the commit (the ledger is then this function's, as without a stage).
   */
  merge?: (client: PoolClient, rejected: number) => Promise<MergeCounts>;
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

/** Node's name for the text of a file in a PostgreSQL encoding, for reporting raw records. */
export function textEncodingOf(pgEncoding: string): BufferEncoding {
  return /^(LATIN1|ISO[-_]?8859[-_]?1|WIN1252|SQL_ASCII)$/i.test(pgEncoding) ? 'latin1' : 'utf8';
}

export async function loadFile(input: LoadFileInput): Promise<FileResult> {
  const { spec, object, signal } = input;
  const timer = new StageTimer();
  const url = `s3://${object.bucket}/${object.key}`;
  const batch = spec.maxErrors > 0 || spec.maxErrorRatio !== undefined || spec.dryRun;
  const textEncoding = textEncodingOf(spec.format.encoding);
  const framer = framerFor(spec, { trackRecords: batch });
  const firstRejects: Reject[] = [];
  const source: SourceState = { bytes: 0, error: undefined };

  let client: PoolClient;
  try {
    client = await timer.time('connectMs', () => (input.sessions ? input.sessions.take() : input.pool.connect()));
  } catch (err) {
    throw classify(err, { url });
  }
  let broken = false;
  let ledgerKey: LedgerKey | undefined;
  const connection = watchConnection(client);
  try {
    await beginLoad(client, spec);
    const useLedger = !spec.dryRun && (input.stagingTable === undefined || input.merge !== undefined);
    const target = await timer.time('prepareMs', () => resolveTarget(client, input.stagingTable ?? spec.target.table, spec.target.columns));
    // The ledger entry's identity is the real table's OID: `target` itself, or, when a merge loads
    // through a stage, the table the stage merges into.
    const targetOid = input.stagingTable === undefined ? target.oid : ((await tableOid(client, input.target)) ?? target.oid);
    ledgerKey = { target: input.target, bucket: object.bucket, key: object.key, etag: object.etag, size: object.size, targetOid };
    if (useLedger) {
      const existing = await timer.time('ledgerMs', () => claimLedgerEntry(client, ledgerKey!, input.jobId, input.runId, spec.reload === true));
      if (existing) {
        await client.query('ROLLBACK');
        return {
          status: 'skipped', rowsLoaded: 0, rowsRejected: 0, blankLines: 0, bytesRead: 0, firstRejects, timings: timer.finish(),
          loadedBy: { runId: existing.runId, jobId: existing.jobId, loadedAt: existing.loadedAt, rowsLoaded: existing.rowsLoaded },
        };
      }
    }

    const columnsFor = (header: Buffer | undefined): string[] =>
      spec.target.columns === 'header' ? columnsFromHeader(header, spec.format, target.tableColumns, spec.target.table, textEncoding) : target.columns;
    const loader = new CopyLoader({
      client,
      framer,
      mode: batch ? 'batch' : 'single',
      textEncoding,
      statement: (header) => copyStatement(target, spec.format, columnsFor(header)),
      probe: (header) => recordProbe(target.sql, columnsFor(header), spec.format),
      onReject: async (reject) => {
        if (firstRejects.length < 5) firstRejects.push(reject);
        await insertReject(input.pool, input.jobId, input.runId, object.bucket, object.key, reject);
        if (!spec.dryRun && loader.rejected > spec.maxErrors) {
          throw new IngestError(
            'ERROR_BUDGET_EXCEEDED',
            `${url}: more than maxErrors=${spec.maxErrors} records rejected (the last at line ${reject.line}: ${reject.message}); ` +
              'the whole file was rolled back. GET /jobs/:id/rejects lists them.',
            { url, maxErrors: spec.maxErrors, rejected: loader.rejected, line: reject.line },
          );
        }
      },
    });

    const since = timer.elapsed();
    await timer.time('copyMs', () =>
      pipeObject({
        s3: input.s3, object, sink: loader, signal, timer, since, state: source,
        onBytes: (bytes) => input.onProgress({ bytes, records: framer.stats.records }),
      }),
    );
    // Where the COPY's time went: framing bytes, handing them to PostgreSQL (and waiting on it), and the
    // rest, which is waiting for object storage (and gunzip).
    timer.add('scanMs', loader.scanMs);
    timer.add('copyWaitMs', loader.copyWaitMs);
    timer.add('sourceWaitMs', Math.max(0, (timer.timings.copyMs ?? 0) - loader.scanMs - loader.copyWaitMs));

    const stats = framer.stats;
    if (stats.records !== loader.rowsLoaded + loader.rejected) {
      throw new IngestError(
        'RECORD_COUNT_MISMATCH',
        `${url}: sent ${stats.records} records but PostgreSQL loaded ${loader.rowsLoaded} rows and ${loader.rejected} were rejected; nothing was committed`,
        { url, recordsSent: stats.records, rowsLoaded: loader.rowsLoaded, rejected: loader.rejected },
      );
    }
    if (!spec.dryRun && spec.maxErrorRatio !== undefined && stats.records > 0 && loader.rejected / stats.records > spec.maxErrorRatio) {
      throw new IngestError(
        'ERROR_BUDGET_EXCEEDED',
        `${url}: ${loader.rejected} of ${stats.records} records rejected, over maxErrorRatio=${spec.maxErrorRatio}; the whole file was rolled back`,
        { url, maxErrorRatio: spec.maxErrorRatio, rejected: loader.rejected, records: stats.records },
      );
    }
    const common = { rowsRejected: loader.rejected, blankLines: stats.blankLines, bytesRead: source.bytes, firstRejects };
    if (spec.dryRun) {
      await client.query('ROLLBACK');
      return { status: 'validated', rowsLoaded: loader.rowsLoaded, ...common, timings: timer.finish() };
    }
    const merged = input.merge ? await timer.time('mergeMs', () => input.merge!(client, loader.rejected)) : undefined;
    if (useLedger) await completeLedgerEntry(client, ledgerKey!, loader.rowsLoaded);
    await recordRunFile(client, {
      runId: input.runId, jobId: input.jobId, bucket: object.bucket, key: object.key, etag: object.etag, size: object.size,
      status: 'loaded', rowsLoaded: loader.rowsLoaded, rowsRejected: loader.rejected, blankLines: stats.blankLines, bytesRead: source.bytes,
      timings: { ...timer.timings }, ...(merged ? { merge: merged } : {}),
    });
    await timer.time('commitMs', () => client.query('COMMIT'));
    return { status: 'loaded', rowsLoaded: loader.rowsLoaded, ...common, ...(merged ? { merge: merged } : {}), timings: timer.finish() };
  } catch (err) {
    broken = true;
    await client.query('ROLLBACK').catch(() => {});
    if (signal.aborted) throw signal.reason;
    const single = (err as { reject?: Reject }).reject;
    if (single) await insertReject(input.pool, input.jobId, input.runId, object.bucket, object.key, single).catch(() => {});
    throw classify(connection.first() ?? err, { url, framer, sourceError: source.error });
  } finally {
    connection.stop();
    // After a failed COPY the connection is not trusted again: it is closed, not pooled.
    if (input.sessions) input.sessions.give(client, broken);
    else client.release(broken);
  }
}

interface ErrorContext {
  url: string;
  framer?: CsvFramer;
  sourceError?: Error | undefined;
}

/** Turns a failure during a file's load into an IngestError with a code a user and the retry logic can act on. */
export function classify(err: unknown, ctx: ErrorContext): IngestError {
  if (err instanceof IngestError) return err;
  const code = (err as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new IngestError('SOURCE_CORRUPT', `${ctx.url} is not a readable gzip stream (${(err as Error).message}); nothing from it was committed`, {
      url: ctx.url,
      zlibCode: code,
    }, { cause: err });
  }
  // The source failing first (not torn down because the database side failed) is a storage problem.
  if (ctx.sourceError && err === ctx.sourceError) {
    return new IngestError('SOURCE_UNAVAILABLE', `reading ${ctx.url} failed mid-stream: ${ctx.sourceError.message}`, { url: ctx.url }, { cause: err });
  }
  const pgErr = err as { code?: string; message?: string; where?: string; detail?: string; reject?: Reject };
  if (hasSqlState(err)) {
    if (isRetryableDbError(err)) {
      return new IngestError('DATABASE_UNAVAILABLE', `the database connection failed during the load of ${ctx.url} (SQLSTATE ${err.code}): ${pgErr.message}`, {
        url: ctx.url,
        sqlstate: err.code,
      }, { cause: err });
    }
    if (isDataError(err)) {
      const pos = copyErrorPosition(pgErr);
      const line = pgErr.reject?.line ?? (pos.record !== undefined && ctx.framer ? ctx.framer.originalLine(pos.record) : undefined);
      const where = [line != null ? `line ${line}` : undefined, pos.column ? `column ${pos.column}` : undefined].filter(Boolean).join(', ');
      return new IngestError(
        'DATA_REJECTED',
        `${ctx.url}${where ? ` ${where}` : ''}: ${pgErr.message}` +
          (ctx.framer?.stats.endedInQuote ? ' (the file ends inside a quoted field: its last record is truncated)' : '') +
          '. Nothing from this file was committed; fix the record, or allow rejects with maxErrors, and submit the job again.',
        {
          url: ctx.url,
          ...(line != null ? { line } : {}),
          ...(pos.column ? { column: pos.column } : {}),
          sqlstate: err.code,
          ...(pgErr.detail ? { detail: pgErr.detail } : {}),
        },
        { cause: err },
      );
    }
    return new IngestError('DATABASE_ERROR', `PostgreSQL refused the load of ${ctx.url} (SQLSTATE ${err.code}): ${pgErr.message}`, {
      url: ctx.url,
      sqlstate: err.code,
    }, { cause: err });
  }
  if (isRetryableDbError(err)) {
    return new IngestError('DATABASE_UNAVAILABLE', `the database connection failed during the load of ${ctx.url}: ${(err as Error).message}`, { url: ctx.url }, { cause: err });
  }
  return new IngestError('INTERNAL', `loading ${ctx.url} failed: ${String((err as Error)?.message ?? err)}`, { url: ctx.url }, { cause: err });
}

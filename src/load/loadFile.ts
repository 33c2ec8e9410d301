// Loads one source object into the target in one transaction: resolve the target, claim the object in
// the file ledger, stream GET -> byte scanner -> COPY, check that the rows the server loaded equal the
// records sent, and commit the rows, the ledger entry and the run's file record together.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { Pool, PoolClient } from '../db/pool.js';
import { hasSqlState, isDataError, isRetryableDbError } from '../db/sqlstate.js';
import { IngestError } from '../errors.js';
import type { JobSpec } from '../jobs/spec.js';
import { RecordScanner, type ScanCounts } from '../scan/recordScanner.js';
import { openObject, type ObjectInfo } from '../sources/s3.js';
import { claimLedgerEntry, completeLedgerEntry, type LedgerKey } from '../sql/fileLedger.js';
import type { Timings } from '../sql/jobRows.js';
import { recordRunFile } from '../sql/runFiles.js';
import { copyErrorPosition, copyInto, copyStatement } from '../target/copyInto.js';
import { resolveTarget } from '../target/resolveTarget.js';
import { StageTimer } from './stageTimer.js';

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
  onProgress: (counts: ScanCounts) => void;
}

export interface FileResult {
  status: 'loaded' | 'skipped';
  rowsLoaded: number;
  bytesRead: number;
  timings: Timings;
  /** For a skipped object: the run, job and time that loaded it. */
  loadedBy?: { runId: string; jobId: string; loadedAt: string; rowsLoaded: number };
}

export async function loadFile(input: LoadFileInput): Promise<FileResult> {
  const { spec, object, signal } = input;
  const timer = new StageTimer();
  const url = `s3://${object.bucket}/${object.key}`;
  const scanner = new RecordScanner({
    quote: spec.format.quote,
    escape: spec.format.escape,
    onProgress: (counts) => {
      if (timer.timings.firstByteMs === undefined) timer.add('firstByteMs', timer.elapsed() - copyStarted);
      input.onProgress(counts);
    },
  });
  let copyStarted = 0;
  let sourceError: Error | undefined;
  const ledgerKey: LedgerKey = { target: input.target, bucket: object.bucket, key: object.key, etag: object.etag, size: object.size };

  let client: PoolClient;
  try {
    client = await timer.time('connectMs', () => input.pool.connect());
  } catch (err) {
    throw classify(err, { url });
  }
  let broken = false;
  try {
    await client.query('BEGIN');
    const target = await timer.time('prepareMs', () => resolveTarget(client, spec.target.table, spec.target.columns));
    const existing = await timer.time('ledgerMs', () => claimLedgerEntry(client, ledgerKey, input.jobId, input.runId));
    if (existing) {
      await client.query('ROLLBACK');
      return {
        status: 'skipped',
        rowsLoaded: 0,
        bytesRead: 0,
        timings: timer.finish(),
        loadedBy: { runId: existing.runId, jobId: existing.jobId, loadedAt: existing.loadedAt, rowsLoaded: existing.rowsLoaded },
      };
    }

    copyStarted = timer.elapsed();
    const body: Readable = await openObject(input.s3, object, signal);
    body.once('error', (err) => {
      sourceError = err;
    });
    const { rowCount } = await timer.time('copyMs', () => copyInto(client, copyStatement(target, spec.format), body, [scanner], signal));

    const counts = scanner.counts();
    const expected = Math.max(0, counts.records - (spec.format.header ? 1 : 0));
    if (rowCount !== expected) {
      throw new IngestError(
        'RECORD_COUNT_MISMATCH',
        `${url}: sent ${expected} records but PostgreSQL loaded ${rowCount} rows; nothing was committed. ` +
          'A line holding only \\. ends a CSV COPY early in PostgreSQL, which is the usual cause.',
        { url, recordsSent: expected, rowsLoaded: rowCount, lines: counts.lines },
      );
    }
    await completeLedgerEntry(client, ledgerKey, rowCount);
    const timings = { ...timer.timings };
    await recordRunFile(client, {
      runId: input.runId,
      jobId: input.jobId,
      bucket: object.bucket,
      key: object.key,
      etag: object.etag,
      size: object.size,
      status: 'loaded',
      rowsLoaded: rowCount,
      bytesRead: counts.bytes,
      timings,
    });
    await timer.time('commitMs', () => client.query('COMMIT'));
    return { status: 'loaded', rowsLoaded: rowCount, bytesRead: counts.bytes, timings: timer.finish() };
  } catch (err) {
    broken = true;
    await client.query('ROLLBACK').catch(() => {});
    if (signal.aborted) throw signal.reason;
    throw classify(err, { url, scanner, header: spec.format.header, sourceError });
  } finally {
    // After a failed COPY the connection is not trusted again: it is closed, not pooled.
    client.release(broken);
  }
}

interface ErrorContext {
  url: string;
  scanner?: RecordScanner;
  header?: boolean;
  sourceError?: Error | undefined;
}

/** Turns a failure during a file's load into an IngestError with a code a user and the retry logic can act on. */
export function classify(err: unknown, ctx: ErrorContext): IngestError {
  if (err instanceof IngestError) return err;
  if (ctx.sourceError) {
    return new IngestError('SOURCE_UNAVAILABLE', `reading ${ctx.url} failed mid-stream: ${ctx.sourceError.message}`, { url: ctx.url }, { cause: err });
  }
  const pgErr = err as { code?: string; message?: string; where?: string; detail?: string; column?: string };
  if (hasSqlState(err)) {
    if (isRetryableDbError(err)) {
      return new IngestError('DATABASE_UNAVAILABLE', `the database connection failed during the load of ${ctx.url} (SQLSTATE ${err.code}): ${pgErr.message}`, {
        url: ctx.url,
        sqlstate: err.code,
      }, { cause: err });
    }
    if (isDataError(err)) {
      const pos = copyErrorPosition(pgErr);
      // PostgreSQL's COPY line number counts physical lines, quoted line breaks included, header included.
      const line = pos.record;
      const where = [line !== undefined ? `line ${line}` : undefined, pos.column ? `column ${pos.column}` : undefined].filter(Boolean).join(', ');
      return new IngestError(
        'DATA_REJECTED',
        `${ctx.url}${where ? ` ${where}` : ''}: ${pgErr.message}` +
          (ctx.scanner?.endedInQuote ? ' (the file ends inside a quoted field: its last record is truncated)' : '') +
          '. Nothing from this file was committed; fix the record and submit the job again.',
        {
          url: ctx.url,
          ...(line !== undefined ? { line } : {}),
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

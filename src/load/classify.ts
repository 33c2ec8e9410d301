// Error classification for a load, in one place: whatever a file's load throws (a database error by
// SQLSTATE, a source failure, a gzip error) becomes an IngestError whose code a user and the retry
// logic can act on.
import { hasSqlState, isDataError, isRetryableDbError } from '../db/sqlstate.js';
import type { RecordDecoder } from '../decode/decoder.js';
import { IngestError } from '../errors.js';
import { copyErrorPosition } from '../sink/copySql.js';
import type { Reject } from '../sink/reject.js';

export interface ErrorContext {
  url: string;
  /** The object's decoder, to map a COPY error's line back to the source. */
  decoder?: RecordDecoder;
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
      const line = pgErr.reject?.line ?? (pos.record !== undefined && ctx.decoder ? ctx.decoder.describe(ctx.decoder.originalLine(pos.record), null).line : undefined);
      const where = [line != null ? `line ${line}` : undefined, pos.column ? `column ${pos.column}` : undefined].filter(Boolean).join(', ');
      return new IngestError(
        'DATA_REJECTED',
        `${ctx.url}${where ? ` ${where}` : ''}: ${pgErr.message}` +
          (ctx.decoder?.stats.endedInQuote ? ' (the file ends inside a quoted field: its last record is truncated)' : '') +
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

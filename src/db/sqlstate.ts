// Classifies PostgreSQL failures by SQLSTATE (and Node's socket error codes), never by message text.
// Retryable: the same statement may succeed later (connection lost, server shutting down, a
// serialization failure or deadlock). Everything else is permanent and must not be retried.

const retryableClasses = new Set(['08']); // connection exception
const retryableCodes = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '55P03', // lock_not_available
  '58000', // system_error (e.g. a Citus worker unreachable mid-statement)
  // io_error: Citus reports a worker lost during a COPY it routes ("failed to COPY to shard N on host:port",
  // the worker's PostgreSQL killed mid-load) with this code. PostgreSQL also uses it for a failed read or
  // write of a file; retrying those costs JOB_ATTEMPTS attempts, as for XX000 below.
  '58030',
  // internal_error: Citus reports a worker connection lost inside a transaction (a worker's PostgreSQL
  // restarted or failed over mid-COPY: "failure on connection marked as essential") with this code. It
  // is also PostgreSQL's code for unexpected internal failures; retrying those costs JOB_ATTEMPTS
  // attempts before the job fails with the same error, which is cheaper than failing a load for good
  // on a worker's restart.
  'XX000',
]);
/**
 * object_not_in_prerequisite_state is retried for one message only: Citus refuses DDL (a staging table
 * distributed, a replace's table built aside) with "<worker> is a metadata node, but is out of sync"
 * while a worker that restarted waits for its maintenance daemon to sync it again, seconds later (the
 * soak met it after a worker group's restart under Patroni). PostgreSQL's other uses of 55000 (currval
 * before nextval, pending trigger events) are permanent and fail at once.
 */
const METADATA_OUT_OF_SYNC = /is a metadata node, but is out of sync/;
const retryableSocketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export interface PgErrorLike {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  where?: string;
  column?: string;
  table?: string;
  schema?: string;
}

/** True when `err` carries a five-character SQLSTATE from the server. */
export function hasSqlState(err: unknown): err is PgErrorLike & { code: string } {
  const code = (err as PgErrorLike | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/**
 * For an error raised by the pg client: is it worth retrying? An error with no code at all did not come
 * from the server (pg ends queries with a bare Error when the socket closes), so it is a transport
 * failure and counts as retryable.
 */
export function isRetryableDbError(err: unknown): boolean {
  const code = (err as PgErrorLike | null)?.code;
  if (code === undefined) return err instanceof Error && err.constructor === Error; // not a TypeError & co: those are bugs
  if (retryableSocketCodes.has(code)) return true;
  if (!/^[0-9A-Z]{5}$/.test(code)) return false;
  if (code === '55000') return METADATA_OUT_OF_SYNC.test((err as PgErrorLike).message ?? '');
  return retryableClasses.has(code.slice(0, 2)) || retryableCodes.has(code);
}

/** Data exceptions (class 22) and integrity violations (class 23): the input, not the system, is wrong. */
export function isDataError(err: unknown): boolean {
  const code = (err as PgErrorLike | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * What a failed COPY of records says about the records, for isolating bad ones under savepoints:
 * - `record`: a data exception (22) or integrity violation (23). Some record is at fault.
 * - `unknown`: internal_error (XX000). Citus reports a row a worker refuses during COPY (unique, CHECK,
 *   NOT NULL, foreign key, exclusion) under this code with the worker's message and no line, but a worker
 *   that ran out of disk or lost a file is reported the same way. The batch is searched for the record;
 *   once it is alone, how the database refuses it by another route decides (see RecordProbe).
 * - `system`: anything else (connection lost, out of memory or disk, permission, cancel): no record is
 *   at fault, and nothing is rejected; the load fails.
 */
export type RecordErrorKind = 'record' | 'unknown' | 'system';

export function recordErrorKind(err: unknown): RecordErrorKind {
  if (!hasSqlState(err)) return 'system';
  if (isDataError(err)) return 'record';
  return err.code === 'XX000' ? 'unknown' : 'system';
}

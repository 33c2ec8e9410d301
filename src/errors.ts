// Every error a user can see, with a stable code. The codes are the contract: the API returns them as
// `{ error: { code, message, details } }`, jobs store them, and docs/errors.md lists them.

export const errorCodes = {
  INVALID_SPEC: { status: 400, retryable: false, doc: 'The job spec failed validation; `details.field` names the field.' },
  INVALID_REQUEST: { status: 400, retryable: false, doc: 'A query string or path parameter is malformed.' },
  UNAUTHORIZED: { status: 401, retryable: false, doc: 'API_TOKENS is set and the request carried no valid token: send `Authorization: Bearer <token>` (or HTTP Basic with the token as the password).' },
  NOT_FOUND: { status: 404, retryable: false, doc: 'No route matches the method and path.' },
  REQUEST_TIMEOUT: { status: 408, retryable: true, doc: 'The request did not arrive completely in time; send it again.' },
  HEADERS_TOO_LARGE: { status: 431, retryable: false, doc: 'The request headers are larger than the server accepts (16 KiB).' },
  BODY_TOO_LARGE: { status: 413, retryable: false, doc: 'The request body is larger than the API accepts (1 MiB).' },
  URL_TOO_LONG: { status: 414, retryable: false, doc: 'A path parameter is longer than the API accepts; `details.limit` is the most characters.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, doc: 'The request body is not `application/json`; send JSON with that content type.' },
  IDEMPOTENCY_CONFLICT: { status: 409, retryable: false, doc: 'The Idempotency-Key was used before with a different spec.' },
  TABLE_NOT_FOUND: { status: 404, retryable: false, doc: 'GET /tables/:name: no such table.' },
  SCHEDULE_NOT_FOUND: { status: 404, retryable: false, doc: 'No schedule has that name.' },
  SCHEDULE_INTERVAL_TOO_SHORT: { status: 400, retryable: false, doc: 'The schedule would fire more often than SCHEDULE_MIN_INTERVAL_SECONDS allows; `details.minimumSeconds` is the limit.' },
  SCHEDULE_LIMIT_REACHED: { status: 400, retryable: false, doc: 'SCHEDULE_MAX_COUNT schedules exist already; delete one (DELETE /schedules/:name) or raise the limit.' },
  WATCH_NOT_FOUND: { status: 404, retryable: false, doc: 'No watch has that name.' },
  INVALID_EVENT: { status: 400, retryable: false, doc: 'POST /events/...: the body is not an event notification in the provider\'s format (S3 `Records[]` or EventBridge, a Pub/Sub push message, Event Grid or CloudEvents); `details.field` names what is missing.' },
  JOB_NOT_FOUND: { status: 404, retryable: false, doc: 'No job has that id.' },
  JOB_NOT_CANCELLABLE: { status: 409, retryable: false, doc: 'The job already finished (succeeded, failed or cancelled).' },
  SOURCE_NOT_FOUND: { status: 422, retryable: false, doc: 'The source object or bucket does not exist.' },
  SOURCE_ACCESS_DENIED: { status: 422, retryable: false, doc: 'Object storage refused the credentials for the source.' },
  NOTIFY_URL_FORBIDDEN: { status: 400, retryable: false, doc: 'notify.url carries credentials, is not http(s), or its host is (or resolves to) a loopback, private, link-local or other special address that NOTIFY_ALLOWED_HOSTS does not name; checked at submit and before each delivery.' },
  SOURCE_FORBIDDEN: { status: 403, retryable: false, doc: 'The source is outside its scheme\'s allow-list (S3_ALLOWED_BUCKETS, GCS_ALLOWED_BUCKETS, AZURE_ALLOWED_CONTAINERS, HTTPS_ALLOWED_HOSTS, LOCAL_SOURCE_ROOTS), or a redirect led outside it; nothing was requested from it.' },
  SOURCE_NOT_CONFIGURED: { status: 400, retryable: false, doc: 'The source URL\'s scheme has no settings in this service (e.g. az:// without AZURE_STORAGE_CONNECTION_STRING); `details.scheme` names it.' },
  SOURCE_CHANGED: { status: 409, retryable: true, doc: 'The object was rewritten between listing and reading (its ETag or version changed); nothing from the new version was loaded. A retry lists it again and loads the new version.' },
  SOURCE_UNVERSIONED: { status: 422, retryable: false, doc: 'An https:// object has no ETag or Last-Modified (or no Content-Length): the ledger could not tell it from a rewritten one, so it is not loaded.' },
  SOURCE_RANGE_UNSUPPORTED: { status: 422, retryable: false, doc: 'The source ignored a byte-range request: atomicity "chunk" and Parquet need range reads; load the object with atomicity "file".' },
  MARKER_TIMEOUT: { status: 422, retryable: false, doc: 'source.waitForMarker did not appear within markerTimeoutSeconds; nothing was loaded.' },
  MANIFEST_FILE_MISSING: { status: 422, retryable: false, doc: 'The marker\'s manifest names a file that is not under the prefix; nothing was loaded.' },
  SOURCE_UNAVAILABLE: { status: 503, retryable: true, doc: 'Object storage could not be reached or failed; retried.' },
  TARGET_NOT_FOUND: { status: 422, retryable: false, doc: 'The target table does not exist.' },
  TARGET_FORBIDDEN: { status: 400, retryable: false, doc: 'target.table is in a schema no job may write into: the service\'s own (`ingest`, `ingest_stage`), PostgreSQL\'s (`pg_catalog`, `information_schema`, any `pg_*`), Citus\'s (`citus`, `citus_internal`, `columnar`, `columnar_internal`), or one outside TARGET_ALLOWED_SCHEMAS when that is set.' },
  TARGET_COLUMN_NOT_FOUND: { status: 422, retryable: false, doc: 'A column in `target.columns` is not in the target table.' },
  TARGET_DEFINITION_INVALID: { status: 400, retryable: false, doc: 'target.create names a type PostgreSQL does not know, or another definition PostgreSQL refused; `details.field` names it.' },
  TARGET_DISTRIBUTION_MISMATCH: { status: 422, retryable: false, doc: 'The existing table is distributed differently from target.distribution (another column, or reference versus distributed).' },
  TARGET_NOT_DISTRIBUTED: { status: 422, retryable: false, doc: 'The existing table is a plain table and the job asks for a distribution; set target.distributeExisting to distribute it first.' },
  CITUS_NOT_AVAILABLE: { status: 422, retryable: false, doc: 'The job asks for a Citus distribution but the database has no citus extension.' },
  ENTRY_NODES_UNSUPPORTED: { status: 422, retryable: false, doc: 'target.entryNodes is "all" but the load cannot enter at every node: no citus extension, a target that is not a Citus table, a node without synced metadata, or ledger tables the workers cannot reach (docs/entry-nodes.md); the message says which. Use "auto" or "coordinator".' },
  ENTRY_NODES_UNAVAILABLE: { status: 503, retryable: true, doc: 'target.entryNodes is "all" and an entry node did not answer or was still in recovery (a failover, a stopped node, a primary Patroni restarts as a standby first, an address the service cannot reach: CITUS_NODE_URLS); retried, each attempt reading pg_dist_node again.' },
  DATA_REJECTED: { status: 422, retryable: false, doc: 'PostgreSQL rejected a record; `details` has the line, column and SQLSTATE.' },
  ERROR_BUDGET_EXCEEDED: { status: 422, retryable: false, doc: 'More records were rejected than maxErrors (or maxErrorRatio) allows; the file was rolled back. GET /jobs/:id/rejects lists them.' },
  SOURCE_CORRUPT: { status: 422, retryable: false, doc: 'The source could not be decoded (a corrupt or truncated gzip stream, or a Parquet page whose declared size does not fit in its column chunk); `details` says where.' },
  RECORD_TOO_LARGE: { status: 422, retryable: false, doc: 'A CSV or JSON Lines record (line end included) is larger than RECORD_MAX_BYTES; `details.line` is the line it starts on, `details.limit` the limit. Often a missing line end or an unclosed quote; nothing from the file was committed.' },
  PAGE_TOO_LARGE: { status: 422, retryable: false, doc: 'A Parquet page declares more uncompressed bytes (or more values, at 4 bytes each) than RECORD_MAX_BYTES; it was refused before anything was allocated for it. `details` names the column, the page\'s byte offset and its declared sizes.' },
  LEDGER_CONFLICT: { status: 409, retryable: true, doc: 'Another job loaded one of the files while this job staged it; the publish was rolled back and the retry skips that file.' },
  PUBLISH_FAILED: { status: 422, retryable: false, doc: 'The staged rows could not be published into the target (e.g. no unique index matches the upsert key, or duplicate keys within one upsert); nothing was published.' },
  MERGE_OUT_OF_ORDER: { status: 409, retryable: false, doc: 'mode "merge": a file sorts (by `order`) before a file already merged into the target; merging it now would apply older changes over newer ones. Nothing was merged; set `reload: true` to merge it anyway.' },
  MERGE_KEY_INVALID: { status: 422, retryable: false, doc: 'mode "merge": the key or operation column is not a column of the target and the file, or (on Citus) the key lacks the distribution column.' },
  RECORD_COUNT_MISMATCH: { status: 500, retryable: false, doc: 'The records sent and the rows PostgreSQL loaded differ; the load was rolled back.' },
  DATABASE_UNAVAILABLE: { status: 503, retryable: true, doc: 'The database connection failed or the server shut down; retried.' },
  RUN_END_NOT_RECORDED: { status: 500, retryable: false, doc: 'The run ended, but PostgreSQL refused to store how (its error or result); the job is failed for good instead of being run again. The message says how the run ended and what was refused; `details.runStatus` and `details.code` are the run\'s own outcome.' },
  DATABASE_ERROR: { status: 500, retryable: false, doc: 'PostgreSQL returned an error that retrying will not fix; `details.sqlstate` has its code.' },
  CANCELLED: { status: 409, retryable: false, doc: 'The job was cancelled; its running load was rolled back.' },
  SHUTTING_DOWN: { status: 503, retryable: true, doc: 'The worker stopped before the load finished; the load was rolled back and runs again.' },
  OVERLOADED: { status: 503, retryable: true, doc: 'The API is under pressure (event loop delay, or requests queueing for a database connection); retry after the `Retry-After` seconds.' },
  NOT_READY: { status: 503, retryable: true, doc: 'A dependency (database, Redis, object storage) is not reachable.' },
  INTERNAL: { status: 500, retryable: false, doc: 'An unexpected error; the message says what failed.' },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** An error with a stable code, safe to show to a user. */
export class IngestError extends Error {
  override name = 'IngestError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return errorCodes[this.code].status;
  }

  get retryable(): boolean {
    return errorCodes[this.code].retryable;
  }

  /** The one error shape: `details` is always there, empty when there is nothing more to say. */
  toJSON(): ErrorBody & { details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details ?? {} };
  }
}

/** Turns anything thrown into an IngestError, keeping an IngestError as it is. */
export function asIngestError(err: unknown): IngestError {
  if (err instanceof IngestError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new IngestError('INTERNAL', message, undefined, { cause: err });
}

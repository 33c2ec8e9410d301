// The service's configuration: read from the environment once, validated, and frozen into one typed
// object. Nothing else in the code base reads process.env.
import envSchema from 'env-schema';
import { isReservedSchema } from './sink/schemaPolicy.js';
import { parseAllowList } from './net/outbound/policy.js';
import { readSourceSettings, type SourceSettings } from './sources/settings.js';
import { DEFAULT_RECORD_MAX_BYTES } from './decode/recordLimit.js';

export interface Config {
  /** PostgreSQL (or Citus coordinator) holding the targets and the `ingest` schema. */
  databaseUrl: string;
  /**
   * What DATABASE_URL points at (DATABASE_POOL_MODE): `direct` (a node, or HAProxy; the default),
   * `session` (a pooler in session mode) or `transaction` (a pooler in transaction mode, e.g. PgBouncer).
   * In transaction mode the service keeps no session state between transactions: loads do not keep Citus
   * worker connections from file to file, and `?wait=` LISTENs only on DATABASE_LISTEN_URL.
   */
  databasePoolMode: 'direct' | 'session' | 'transaction';
  /**
   * Connection for the LISTEN behind `GET /jobs/:id?wait=` (DATABASE_LISTEN_URL): a direct or
   * session-mode URL. Unset: DATABASE_URL, except in transaction mode, where waits poll instead.
   */
  databaseListenUrl: string | undefined;
  /** Redis used by BullMQ. */
  redisUrl: string;
  /** S3 endpoint (MinIO, s3rver); unset means AWS S3. */
  s3Endpoint: string | undefined;
  s3Region: string;
  s3AccessKeyId: string | undefined;
  s3SecretAccessKey: string | undefined;
  /** Path-style bucket addressing; defaults to true when an endpoint is set (MinIO needs it). */
  s3ForcePathStyle: boolean;
  port: number;
  host: string;
  /** Jobs one worker process runs at once. Default 2. */
  workerConcurrency: number;
  /** Objects one worker process loads at once, over all its jobs (each job also has its own concurrency). Default 8. */
  workerMaxObjects: number;
  /** BullMQ queue name. Default `citus-ingest-load`. */
  queueName: string;
  /** BullMQ Redis key prefix. Default `bull`. */
  queuePrefix: string;
  /** Attempts per job for retryable failures (connection loss, shutdown). Default 5. */
  jobAttempts: number;
  /** How long SIGTERM waits for running loads before rolling them back. Default 30000 ms. */
  shutdownTimeoutMs: number;
  /** How often a running load writes its progress and checks for a cancel. Default 500 ms. */
  progressIntervalMs: number;
  /** BullMQ job lock: renewed every half of it while the worker lives; a dead worker's job is taken back after it. Default 60000 ms. */
  lockDurationMs: number;
  /** How often workers look for jobs whose lock expired (a dead worker's). Default 30000 ms. */
  stalledIntervalMs: number;
  /** How often a worker re-enqueues jobs PostgreSQL holds as unfinished but Redis lost. Default 30000 ms. */
  reconcileIntervalMs: number;
  logLevel: string;
  /**
   * Bearer tokens the API accepts (API_TOKENS, comma-separated, each at least 16 characters). Empty (the
   * default) leaves the API open; set, every route but /healthz and /readyz needs one of them.
   */
  apiTokens: string[];
  /** Worker role only: serve /metrics and /healthz on this port (METRICS_PORT). Unset (the default): no server. */
  metricsPort: number | undefined;
  /** Buckets jobs may read; empty means any. From S3_ALLOWED_BUCKETS (comma-separated). */
  s3AllowedBuckets: string[];
  /** Shared secret that signs completion callbacks (X-Citus-Ingest-Signature). */
  notifySecret: string | undefined;
  /**
   * Schemas jobs may load into, from TARGET_ALLOWED_SCHEMAS (comma-separated, as the catalog spells them).
   * Empty (the default): any schema but the service's, PostgreSQL's and Citus's, which are always refused.
   */
  targetAllowedSchemas: string[];
  // --- Callbacks and schedules (issue 18: items 5, 6, 12) ---
  /**
   * Special addresses (loopback, private, link-local...) a notify.url may reach, from
   * NOTIFY_ALLOWED_HOSTS: comma-separated `address` or `address:port`, as HTTPS_ALLOWED_HOSTS spells
   * them (net/outbound/policy.ts); an address is let through only with the URL's port, and a host name
   * lets none of its addresses through. Default empty: callbacks reach public addresses only.
   */
  notifyAllowedHosts: string[];
  /** Completion callbacks one worker process sends at once, in their own queue. Default 4. */
  notifyConcurrency: number;
  /** Shortest interval a schedule may fire at (SCHEDULE_MIN_INTERVAL_SECONDS). Default 60 s. */
  scheduleMinIntervalSeconds: number;
  /** Most schedules one queue may hold (SCHEDULE_MAX_COUNT). Default 100. */
  scheduleMaxCount: number;
  /** Sources beyond S3 (gs://, az://, https://, file://), each from its own settings (sources/settings.ts). */
  sources: SourceSettings;
  /**
   * The most bytes one CSV or JSON Lines record (line end included) or one Parquet page (uncompressed)
   * may take (RECORD_MAX_BYTES): what a worker holds for one record is bounded by it, and a larger one
   * fails the file with RECORD_TOO_LARGE (PAGE_TOO_LARGE). Default 134217728 (128 MiB); at least 1 MiB.
   */
  recordMaxBytes: number;
  /**
   * How loads reach each Citus node when they enter at every node (CITUS_NODE_URLS, docs/entry-nodes.md).
   * Default (unset): DATABASE_URL's credentials and database at the host and port pg_dist_node names.
   * `template`: a URL with {host} and {port} in it; `urls`: "host:port" -> URL, for the nodes it names.
   */
  citusNodeUrls: CitusNodeUrls;
}

export interface CitusNodeUrls {
  template: string | undefined;
  urls: Record<string, string>;
}

const schema = {
  type: 'object',
  properties: {
    DATABASE_URL: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres', pattern: '^postgres(ql)?://' },
    DATABASE_POOL_MODE: { type: 'string', default: 'direct', enum: ['direct', 'session', 'transaction'] },
    DATABASE_LISTEN_URL: { type: 'string', pattern: '^postgres(ql)?://' },
    REDIS_URL: { type: 'string', default: 'redis://127.0.0.1:6379', pattern: '^rediss?://' },
    S3_ENDPOINT: { type: 'string', pattern: '^https?://' },
    S3_REGION: { type: 'string', default: 'us-east-1', minLength: 1 },
    S3_ACCESS_KEY_ID: { type: 'string' },
    S3_SECRET_ACCESS_KEY: { type: 'string' },
    S3_FORCE_PATH_STYLE: { type: 'string', enum: ['true', 'false', '1', '0', ''] },
    PORT: { type: 'integer', default: 3000, minimum: 0, maximum: 65535 },
    HOST: { type: 'string', default: '127.0.0.1' },
    WORKER_CONCURRENCY: { type: 'integer', default: 2, minimum: 1, maximum: 64 },
    WORKER_MAX_OBJECTS: { type: 'integer', default: 8, minimum: 1, maximum: 256 },
    QUEUE_NAME: { type: 'string', default: 'citus-ingest-load', pattern: '^[A-Za-z0-9_.-]+$' },
    QUEUE_PREFIX: { type: 'string', default: 'bull', pattern: '^[A-Za-z0-9_.-]+$' },
    JOB_ATTEMPTS: { type: 'integer', default: 5, minimum: 1, maximum: 100 },
    SHUTDOWN_TIMEOUT_MS: { type: 'integer', default: 30000, minimum: 0 },
    PROGRESS_INTERVAL_MS: { type: 'integer', default: 500, minimum: 50 },
    LOCK_DURATION_MS: { type: 'integer', default: 60000, minimum: 1000 },
    STALLED_INTERVAL_MS: { type: 'integer', default: 30000, minimum: 500 },
    RECONCILE_INTERVAL_MS: { type: 'integer', default: 30000, minimum: 500 },
    S3_ALLOWED_BUCKETS: { type: 'string', pattern: '^[a-z0-9.,\\- ]*$' },
    NOTIFY_SECRET: { type: 'string', minLength: 16 },
    TARGET_ALLOWED_SCHEMAS: { type: 'string', pattern: '^[^"]*$' },
    API_TOKENS: { type: 'string' },
    NOTIFY_ALLOWED_HOSTS: { type: 'string', pattern: '^[A-Za-z0-9.:\\[\\]_, -]*$' },
    NOTIFY_CONCURRENCY: { type: 'integer', default: 4, minimum: 1, maximum: 256 },
    SCHEDULE_MIN_INTERVAL_SECONDS: { type: 'integer', default: 60, minimum: 1, maximum: 31_536_000 },
    SCHEDULE_MAX_COUNT: { type: 'integer', default: 100, minimum: 0, maximum: 100_000 },
    METRICS_PORT: { type: 'integer', minimum: 0, maximum: 65535 },
    RECORD_MAX_BYTES: { type: 'integer', default: DEFAULT_RECORD_MAX_BYTES, minimum: 1 << 20, maximum: 2 ** 31 - 1 },
    CITUS_NODE_URLS: { type: 'string' },
    LOG_LEVEL: { type: 'string', default: 'info', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
  },
} as const;

interface RawEnv {
  DATABASE_URL: string;
  DATABASE_POOL_MODE: 'direct' | 'session' | 'transaction';
  DATABASE_LISTEN_URL?: string;
  REDIS_URL: string;
  S3_ENDPOINT?: string;
  S3_REGION: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  S3_FORCE_PATH_STYLE?: string;
  PORT: number;
  HOST: string;
  WORKER_CONCURRENCY: number;
  WORKER_MAX_OBJECTS: number;
  QUEUE_NAME: string;
  QUEUE_PREFIX: string;
  JOB_ATTEMPTS: number;
  SHUTDOWN_TIMEOUT_MS: number;
  PROGRESS_INTERVAL_MS: number;
  LOCK_DURATION_MS: number;
  STALLED_INTERVAL_MS: number;
  RECONCILE_INTERVAL_MS: number;
  LOG_LEVEL: string;
  API_TOKENS?: string;
  METRICS_PORT?: number;
  S3_ALLOWED_BUCKETS?: string;
  NOTIFY_SECRET?: string;
  TARGET_ALLOWED_SCHEMAS?: string;
  NOTIFY_ALLOWED_HOSTS?: string;
  NOTIFY_CONCURRENCY: number;
  SCHEDULE_MIN_INTERVAL_SECONDS: number;
  SCHEDULE_MAX_COUNT: number;
  RECORD_MAX_BYTES: number;
  CITUS_NODE_URLS?: string;
}

function sourceSettingsOf(env: NodeJS.ProcessEnv): SourceSettings {
  try {
    return readSourceSettings(env);
  } catch (err) {
    const message = (err as Error).message;
    throw new ConfigError(message.startsWith('invalid configuration') ? message : `invalid configuration: ${message}`);
  }
}

/** NOTIFY_ALLOWED_HOSTS as the outbound policy reads it (`host` or `host:port` entries). */
function notifyAllowList(raw: string | undefined): string[] {
  try {
    return parseAllowList('NOTIFY_ALLOWED_HOSTS', raw);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

const postgresUrl = /^postgres(ql)?:\/\//;

/**
 * CITUS_NODE_URLS: comma-separated entries, each "host:port=URL" (that node's URL) or one URL with
 * {host} and {port} in it (every other node's). Empty: neither.
 */
function citusNodeUrlsOf(value: string | undefined): CitusNodeUrls {
  const parsed: CitusNodeUrls = { template: undefined, urls: {} };
  for (const entry of (value ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const named = eq > 0 && !postgresUrl.test(entry.slice(0, eq)) ? { node: entry.slice(0, eq), url: entry.slice(eq + 1) } : undefined;
    if (named && /^[^\s:]+:\d+$/.test(named.node) && postgresUrl.test(named.url)) {
      parsed.urls[named.node] = named.url;
    } else if (!named && postgresUrl.test(entry) && entry.includes('{host}') && parsed.template === undefined) {
      parsed.template = entry;
    } else {
      throw new ConfigError(`invalid configuration: CITUS_NODE_URLS entry ${JSON.stringify(entry.replace(/\/\/[^@/]*@/, '//…@'))} is neither host:port=postgres://… nor one postgres:// template with {host} (and {port})`);
    }
  }
  return parsed;
}

/** Thrown when the environment is invalid; its message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates `env` (default: process.env) and returns the typed configuration.
 * Empty strings count as unset, so `S3_ENDPOINT=` in an env file means "not set".
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const data: Record<string, string> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') data[key] = value;
  }
  let raw: RawEnv;
  try {
    raw = envSchema<RawEnv>({ schema, data, env: false, dotenv: false });
  } catch (err) {
    // env-schema reports "env/PORT must be integer"; keep the variable name up front.
    const message = (err as Error).message.replace(/env\//g, '');
    throw new ConfigError(`invalid configuration: ${message}`);
  }
  const pathStyle = raw.S3_FORCE_PATH_STYLE;
  const config: Config = {
    databaseUrl: raw.DATABASE_URL,
    databasePoolMode: raw.DATABASE_POOL_MODE,
    databaseListenUrl: raw.DATABASE_LISTEN_URL,
    redisUrl: raw.REDIS_URL,
    s3Endpoint: raw.S3_ENDPOINT,
    s3Region: raw.S3_REGION,
    s3AccessKeyId: raw.S3_ACCESS_KEY_ID,
    s3SecretAccessKey: raw.S3_SECRET_ACCESS_KEY,
    s3ForcePathStyle: pathStyle === undefined || pathStyle === '' ? raw.S3_ENDPOINT !== undefined : pathStyle === 'true' || pathStyle === '1',
    port: raw.PORT,
    host: raw.HOST,
    workerConcurrency: raw.WORKER_CONCURRENCY,
    workerMaxObjects: raw.WORKER_MAX_OBJECTS,
    queueName: raw.QUEUE_NAME,
    queuePrefix: raw.QUEUE_PREFIX,
    jobAttempts: raw.JOB_ATTEMPTS,
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS,
    progressIntervalMs: raw.PROGRESS_INTERVAL_MS,
    lockDurationMs: raw.LOCK_DURATION_MS,
    stalledIntervalMs: raw.STALLED_INTERVAL_MS,
    reconcileIntervalMs: raw.RECONCILE_INTERVAL_MS,
    logLevel: raw.LOG_LEVEL,
    apiTokens: (raw.API_TOKENS ?? '').split(',').map((token) => token.trim()).filter(Boolean),
    metricsPort: raw.METRICS_PORT,
    s3AllowedBuckets: (raw.S3_ALLOWED_BUCKETS ?? '').split(',').map((b) => b.trim()).filter(Boolean),
    notifySecret: raw.NOTIFY_SECRET,
    targetAllowedSchemas: (raw.TARGET_ALLOWED_SCHEMAS ?? '').split(',').map((name) => name.trim()).filter(Boolean),
    notifyAllowedHosts: notifyAllowList(raw.NOTIFY_ALLOWED_HOSTS),
    notifyConcurrency: raw.NOTIFY_CONCURRENCY,
    scheduleMinIntervalSeconds: raw.SCHEDULE_MIN_INTERVAL_SECONDS,
    scheduleMaxCount: raw.SCHEDULE_MAX_COUNT,
    sources: sourceSettingsOf(env),
    recordMaxBytes: raw.RECORD_MAX_BYTES,
    citusNodeUrls: citusNodeUrlsOf(raw.CITUS_NODE_URLS),
    ...overrides,
  };
  if ((config.s3AccessKeyId === undefined) !== (config.s3SecretAccessKey === undefined)) {
    throw new ConfigError('invalid configuration: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together');
  }
  const reserved = config.targetAllowedSchemas.find(isReservedSchema);
  if (reserved !== undefined) {
    throw new ConfigError(`invalid configuration: TARGET_ALLOWED_SCHEMAS names ${JSON.stringify(reserved)}, a schema of the service, PostgreSQL or Citus, which jobs never load into`);
  }
  if (config.apiTokens.some((token) => token.length < 16)) {
    // Never echo the token itself: the message ends up in logs.
    throw new ConfigError('invalid configuration: API_TOKENS must be comma-separated tokens of at least 16 characters each');
  }
  return Object.freeze(config);
}

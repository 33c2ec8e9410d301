// A small HTTP client for the service's API (global fetch). Every non-2xx answer becomes an ApiError
// carrying the API's `{ error: { code, message, details } }`; a server that cannot be reached becomes a
// CliError naming the URL.
import type { Job, JobStatus, Run } from '../sql/jobRows.js';
import type { SubmitSpec } from './spec.js';
import { CliError } from './exit.js';

export type JobWithRuns = Job & { runs: Run[] };

export interface RejectRow {
  id: string;
  runId: string;
  url: string;
  line: number;
  byteOffset: number;
  column: string | null;
  sqlstate: string;
  message: string;
  record: string;
}

export interface RejectsPage {
  rejects: RejectRow[];
  total: number;
  nextCursor: string | null;
}

export interface JobsPage {
  jobs: Job[];
  nextCursor: string | null;
}

/** An error answer of the API. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | undefined,
    /** The answer's Retry-After, in milliseconds, when it had one in seconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

function retryAfterMs(header: string | null): number | undefined {
  return header !== null && /^\d{1,6}$/.test(header) ? Number(header) * 1000 : undefined;
}

export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:3000 (a trailing slash is dropped). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string | undefined;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
  /**
   * How often a request the API refused as OVERLOADED (503, before handling it, so a POST is safe to
   * send again) is sent again, each after the answer's Retry-After (at most 10 s). Default 3.
   */
  overloadedRetries?: number;
}

/** The longest Retry-After the client honours before sending a refused request again. */
const MAX_RETRY_AFTER_MS = 10_000;

export class ApiClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly overloadedRetries: number;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.overloadedRetries = opts.overloadedRetries ?? 3;
  }

  submit(spec: SubmitSpec, idempotencyKey?: string): Promise<{ id: string; status: string }> {
    return this.request('POST', '/jobs', spec, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }

  job(id: string): Promise<JobWithRuns> {
    return this.request('GET', `/jobs/${encodeURIComponent(id)}`);
  }

  cancel(id: string): Promise<Job> {
    return this.request('POST', `/jobs/${encodeURIComponent(id)}/cancel`);
  }

  jobs(q: { status?: JobStatus | undefined; limit?: number | undefined; cursor?: string | undefined }): Promise<JobsPage> {
    return this.request('GET', `/jobs${query(q)}`);
  }

  rejects(id: string, q: { limit?: number | undefined; cursor?: string | undefined; runId?: string | undefined }): Promise<RejectsPage> {
    return this.request('GET', `/jobs/${encodeURIComponent(id)}/rejects${query(q)}`);
  }

  private async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    for (let retries = 0; ; retries++) {
      try {
        return await this.requestOnce<T>(method, path, body, headers);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'OVERLOADED') || retries >= this.overloadedRetries) throw err;
        await new Promise((r) => setTimeout(r, Math.min(err.retryAfterMs ?? 1000, MAX_RETRY_AFTER_MS)));
      }
    }
  }

  private async requestOnce<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (this.token) h.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: h,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new CliError(`cannot reach the API at ${this.baseUrl} (${method} ${path}: ${why}); is the service running? (--api or CITUS_INGEST_API)`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
      throw new ApiError(
        res.status,
        typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`,
        typeof e?.message === 'string' ? e.message : `${method} ${path} answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`,
        typeof e?.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>) : undefined,
        retryAfterMs(res.headers.get('retry-after')),
      );
    }
    if (parsed === undefined) throw new CliError(`${method} ${url} answered ${res.status} without a JSON body`);
    return parsed as T;
  }
}

function query(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

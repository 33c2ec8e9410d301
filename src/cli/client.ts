// The CLI's client for the service's API: openapi-fetch over the types generated from the OpenAPI
// document (src/cli/api.d.ts, npm run gen:api), so a path, parameter or body the document does not
// carry fails the typecheck. Every non-2xx answer becomes an ApiError carrying the API's
// `{ error: { code, message, details } }`; a server that cannot be reached becomes a CliError naming the URL.
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './api.js';
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
  private readonly api: Client<paths>;
  private readonly timeoutMs: number;
  private readonly overloadedRetries: number;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.overloadedRetries = opts.overloadedRetries ?? 3;
    this.api = createClient<paths>({
      baseUrl: this.baseUrl,
      headers: { accept: 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    });
  }

  submit(spec: SubmitSpec, idempotencyKey?: string): Promise<{ id: string; status: string }> {
    return this.request('POST /jobs', (signal) =>
      this.api.POST('/jobs', { body: spec, params: { header: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {} }, signal }),
    );
  }

  job(id: string): Promise<JobWithRuns> {
    return this.request(`GET /jobs/${id}`, (signal) => this.api.GET('/jobs/{id}', { params: { path: { id } }, signal }));
  }

  cancel(id: string): Promise<Job> {
    return this.request(`POST /jobs/${id}/cancel`, (signal) => this.api.POST('/jobs/{id}/cancel', { params: { path: { id } }, signal }));
  }

  jobs(q: { status?: JobStatus | undefined; limit?: number | undefined; cursor?: string | undefined }): Promise<JobsPage> {
    return this.request('GET /jobs', (signal) => this.api.GET('/jobs', { params: { query: q }, signal }));
  }

  rejects(id: string, q: { limit?: number | undefined; cursor?: string | undefined; runId?: string | undefined }): Promise<RejectsPage> {
    return this.request(`GET /jobs/${id}/rejects`, (signal) => this.api.GET('/jobs/{id}/rejects', { params: { path: { id }, query: q }, signal }));
  }

  /**
   * Sends a request (again after an OVERLOADED refusal) and returns its JSON. The answer's type is the
   * caller's domain type (the rows the route serializes); the document types the request side.
   */
  private async request<T>(what: string, send: (signal: AbortSignal) => Promise<Answer>): Promise<T> {
    for (let retries = 0; ; retries++) {
      try {
        return (await this.requestOnce(what, send)) as T;
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'OVERLOADED') || retries >= this.overloadedRetries) throw err;
        await new Promise((r) => setTimeout(r, Math.min(err.retryAfterMs ?? 1000, MAX_RETRY_AFTER_MS)));
      }
    }
  }

  private async requestOnce(what: string, send: (signal: AbortSignal) => Promise<Answer>): Promise<unknown> {
    let answer: Answer;
    try {
      answer = await send(AbortSignal.timeout(this.timeoutMs));
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new CliError(`cannot reach the API at ${this.baseUrl} (${what}: ${why}); is the service running? (--api or CITUS_INGEST_API)`);
    }
    const { data, error, response: res } = answer;
    if (!res.ok) {
      const e = (error as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
      const text = typeof error === 'string' ? error : '';
      throw new ApiError(
        res.status,
        typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`,
        typeof e?.message === 'string' ? e.message : `${what} answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`,
        typeof e?.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>) : undefined,
        retryAfterMs(res.headers.get('retry-after')),
      );
    }
    if (data === undefined) throw new CliError(`${what} at ${this.baseUrl} answered ${res.status} without a JSON body`);
    return data;
  }
}

/** What an openapi-fetch call resolves to, whichever route it was. */
interface Answer {
  data?: unknown;
  error?: unknown;
  response: Response;
}

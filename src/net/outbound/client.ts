// The one HTTP client for requests out of the service (https:// sources, completion callbacks): undici,
// with a dispatcher per policy. Its connector resolves the host, checks every address against the
// policy and connects to the address it checked, so a DNS answer that changes between a check and the
// connect cannot slip a loopback or link-local address in; the Host header and TLS (SNI, the
// certificate) keep the URL's name. Redirects are followed by hand, each hop checked like the first.
// Not fetch: it decodes any Content-Encoding, which would break sizes and byte ranges.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Agent, buildConnector, request } from 'undici';
import type { OutboundPolicy } from './policy.js';

export interface OutboundClientOptions {
  /** Most redirects one request follows; 0 returns a 3xx to the caller as it is. Default 0. */
  maxRedirects?: number;
  /** Time without progress (connecting, waiting for the head, body bytes the reader asked for) before a request fails. Default 30000 ms. */
  idleTimeoutMs?: number;
}

export interface OutboundRequest {
  method: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, as the server sent it (no Content-Encoding decoded); the caller reads it or destroys it. */
  body: Readable;
  /** Where the answer came from, after redirects. */
  url: URL;
}

/** A request that failed on the way (network, timeout, too many redirects): worth trying again later. */
export class OutboundFailure extends Error {
  constructor(message: string, readonly url: URL, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OutboundFailure';
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Header values as one string each (undici gives a repeated header as an array). */
function joined(headers: Record<string, string | string[] | undefined>): IncomingHttpHeaders {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

export class OutboundClient {
  private readonly agent: Agent;
  private readonly maxRedirects: number;

  constructor(readonly policy: OutboundPolicy, o: OutboundClientOptions = {}) {
    this.maxRedirects = o.maxRedirects ?? 0;
    const idle = o.idleTimeoutMs ?? 30_000;
    const connector = buildConnector({ timeout: idle, allowH2: false });
    this.agent = new Agent({
      headersTimeout: idle,
      bodyTimeout: idle,
      allowH2: false,
      connect: (opts, callback) => {
        const url = new URL(`${opts.protocol}//${opts.host}`);
        policy.addresses(url).then(
          ([address]) => connector({ ...opts, hostname: address! }, callback),
          (err: Error) => callback(err, null),
        );
      },
    });
  }

  /**
   * Sends the request to `start`, following up to maxRedirects redirects to URLs the policy allows.
   * Throws the policy's refusal for a URL, hop or address that must not be reached, the signal's reason
   * when it aborts, and OutboundFailure for anything else on the way. Any answer (4xx, 5xx, a 3xx not
   * followed) is returned for the caller to judge.
   */
  async request(start: URL, req: OutboundRequest): Promise<OutboundResponse> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const res = await this.once(url, req);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.status) || location === undefined || this.maxRedirects === 0) return res;
      res.body.resume();
      if (hop >= this.maxRedirects) throw new OutboundFailure(`${start.href}: more than ${this.maxRedirects} redirects (the last to ${location})`, start);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new OutboundFailure(`${url.href} redirected to ${JSON.stringify(location)}, which is not a URL`, start);
      }
      this.policy.checkUrl(next, url);
      url = next;
    }
  }

  private async once(url: URL, req: OutboundRequest): Promise<OutboundResponse> {
    this.policy.checkUrl(url);
    try {
      const res = await request(url, {
        dispatcher: this.agent,
        method: req.method,
        headers: { 'user-agent': 'citus-ingest', ...req.headers },
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      return { status: res.statusCode, headers: joined(res.headers), body: res.body, url };
    } catch (err) {
      if (this.policy.isRefusal(err)) throw err;
      if (req.signal?.aborted) throw req.signal.reason;
      throw new OutboundFailure(`${url.host} could not be reached: ${(err as Error).message}`, url, { cause: err });
    }
  }

  /** Closes the pooled connections. */
  close(): Promise<void> {
    return this.agent.close();
  }
}

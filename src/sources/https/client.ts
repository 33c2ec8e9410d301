// The https:// source's requests: the outbound client (net/outbound) under HTTPS_ALLOWED_HOSTS, which
// is an allow-list (every hop's host must be in it), with redirects followed and each hop checked, and
// its errors in the source's codes: SOURCE_FORBIDDEN for what the policy refuses, SOURCE_UNAVAILABLE
// (retried) for a request that failed on the way.
import { IngestError } from '../../errors.js';
import { OutboundClient, OutboundFailure, type OutboundResponse } from '../../net/outbound/client.js';
import { OutboundPolicy, type Resolver } from '../../net/outbound/policy.js';
import type { HttpsSettings } from './settings.js';

export interface WebClientOptions extends HttpsSettings {
  /** Most redirects one request follows. Default 3. */
  maxRedirects?: number;
  /** Time without a byte while waiting on the server (connecting, the head, body bytes the reader asked for) before a request fails. Default 30000 ms. */
  timeoutMs?: number;
  /** Host names to addresses. Default: the system resolver. */
  resolve?: Resolver;
}

export type WebResponse = OutboundResponse;

/** The https source's outbound policy: HTTPS_ALLOWED_HOSTS as an allow-list. */
export function sourcePolicy(o: HttpsSettings & { resolve?: Resolver }): OutboundPolicy {
  return new OutboundPolicy({
    listName: 'HTTPS_ALLOWED_HOSTS',
    allowedHosts: o.allowedHosts,
    reach: 'listed',
    allowPlainHttp: o.allowPlainHttp,
    plainHttpSetting: 'HTTPS_ALLOW_PLAIN_HTTP',
    credentialsHint: 'https sources read public objects only',
    refuse: (reason, details) => new IngestError('SOURCE_FORBIDDEN', reason, { field: '/source/url', ...details }),
    ...(o.resolve ? { resolve: o.resolve } : {}),
  });
}

export class WebClient {
  private readonly client: OutboundClient;

  constructor(o: WebClientOptions) {
    this.client = new OutboundClient(sourcePolicy(o), { maxRedirects: o.maxRedirects ?? 3, idleTimeoutMs: o.timeoutMs ?? 30_000 });
  }

  /** Throws SOURCE_FORBIDDEN unless `url` may be requested at all: its scheme, host and port. */
  checkUrl(url: URL): void {
    this.client.policy.checkUrl(url);
  }

  /**
   * Sends `method` to `url`, following redirects to allowed hosts. Throws SOURCE_FORBIDDEN for a URL,
   * hop or address that must not be reached, SOURCE_UNAVAILABLE for a network failure or too many
   * redirects. Any other answer (4xx, 5xx) is returned for the caller to judge.
   */
  async request(method: 'GET' | 'HEAD', url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<WebResponse> {
    try {
      return await this.client.request(url, { method, headers, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (!(err instanceof OutboundFailure)) throw err;
      const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
      throw new IngestError('SOURCE_UNAVAILABLE', `${err.message}; nothing was loaded from ${url.href}`, { url: url.href, ...(code ? { errno: code } : {}) }, { cause: err });
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

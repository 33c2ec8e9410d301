// One HTTP(S) request for the https:// source, with the checks that keep it from becoming a request
// forgery: every hop's host must be in HTTPS_ALLOWED_HOSTS, and the connection goes only to addresses
// checked at connect time (a DNS answer that changes between a check and the connect cannot slip a
// loopback or link-local address in). Redirects are followed by hand, to allowed hosts only.
//
// GETs go through the project's own HTTP/1.1 GET (net/http1.ts): the body is the socket's reads, not
// node:http's copies of them, and its idle limit counts only the time the loader waits on the server.
// HEADs go through node:http(s). Not fetch: fetch decodes any Content-Encoding with no way to turn it
// off, which would break sizes and byte ranges and gunzip a .csv.gz twice; and it takes no lookup hook
// without the undici package.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { IngestError } from '../../errors.js';
import { getOnce } from '../../net/http1.js';
import { isSpecialAddress, unbracketed } from '../../net/specialAddresses.js';
import type { HttpsSettings } from './settings.js';

export interface WebClientOptions extends HttpsSettings {
  /** Most redirects one request follows. Default 3. */
  maxRedirects?: number;
  /** Time without a byte while waiting on the server (connecting, the head, body bytes the reader asked for) before a request fails. Default 30000 ms. */
  timeoutMs?: number;
}

export interface WebResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body; the caller reads it or destroys it. */
  body: Readable;
  /** Where the answer came from, after redirects. */
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function forbidden(message: string, details: Record<string, unknown>): IngestError {
  return new IngestError('SOURCE_FORBIDDEN', message, { field: '/source/url', ...details });
}

export class WebClient {
  private readonly maxRedirects: number;
  private readonly timeoutMs: number;

  constructor(private readonly o: WebClientOptions) {
    this.maxRedirects = o.maxRedirects ?? 3;
    this.timeoutMs = o.timeoutMs ?? 30_000;
  }

  /** Throws SOURCE_FORBIDDEN unless `url` may be requested at all: its scheme, host and port. */
  checkUrl(url: URL, redirectedFrom?: URL): void {
    const via = redirectedFrom ? ` (a redirect from ${redirectedFrom.host})` : '';
    if (url.protocol === 'http:' && !this.o.allowPlainHttp) {
      throw forbidden(`http://${url.host}${via}: plain http:// is off; use https://, or set HTTPS_ALLOW_PLAIN_HTTP=true to allow it`, { host: url.host });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw forbidden(`${url.protocol}//${url.host}${via} is not an https:// or http:// URL; nothing was requested from it`, { host: url.host });
    }
    if (url.username !== '' || url.password !== '') {
      throw forbidden(`${url.host}${via}: the URL carries credentials; https sources read public objects only`, { host: url.host });
    }
    if (!this.o.allowedHosts.includes(url.host)) {
      const listed = this.o.allowedHosts.length > 0 ? ` (${this.o.allowedHosts.join(', ')})` : ' (empty: https sources are off)';
      throw forbidden(`host ${url.host}${via} is not in HTTPS_ALLOWED_HOSTS${listed}; nothing was requested from it`, { host: url.host });
    }
  }

  /** Whether a connection to `address` (for a request to `url`) may go ahead. */
  private addressPermitted(address: string, url: URL): boolean {
    if (!isSpecialAddress(address)) return true;
    // Named in the allow-list as an address (with the request's port): the operator meant it.
    const host = isIP(address) === 6 ? `[${address}]` : address;
    return this.o.allowedHosts.includes(url.port ? `${host}:${url.port}` : host);
  }

  private refuseAddress(address: string, url: URL): IngestError {
    const named = unbracketed(url.hostname) === address ? `host ${url.host}` : `host ${url.host} resolves to ${address}, which`;
    return forbidden(
      `${named} is a loopback, private, link-local or other special address; nothing was requested from it. To read from it anyway, add ${isIP(address) === 6 ? `[${address}]` : address}${url.port ? `:${url.port}` : ''} to HTTPS_ALLOWED_HOSTS`,
      { host: url.host, address },
    );
  }

  /** A DNS lookup for net.connect that refuses special addresses, so the address connected to is the one checked. */
  private checkedLookup(url: URL, refused: (err: IngestError) => void): LookupFunction {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 0);
        const bad = addresses.find((a) => !this.addressPermitted(a.address, url));
        if (bad || addresses.length === 0) {
          const error = bad ? this.refuseAddress(bad.address, url) : forbidden(`host ${url.host} has no address`, { host: url.host });
          refused(error);
          return callback(error, '', 0);
        }
        if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      });
    };
  }

  /**
   * Sends `method` to `url`, following redirects to allowed hosts. Throws SOURCE_FORBIDDEN for a URL or
   * hop that must not be requested, SOURCE_UNAVAILABLE for a network failure or too many redirects.
   * Any other answer (4xx, 5xx) is returned for the caller to judge.
   */
  async request(method: 'GET' | 'HEAD', start: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<WebResponse> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const res = await this.once(method, url, headers, signal);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.status) || location === undefined) return res;
      res.body.resume();
      if (hop >= this.maxRedirects) {
        throw new IngestError('SOURCE_UNAVAILABLE', `${start.href}: more than ${this.maxRedirects} redirects (the last to ${location}); nothing was loaded`, { url: start.href });
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new IngestError('SOURCE_UNAVAILABLE', `${url.href} redirected to ${JSON.stringify(location)}, which is not a URL`, { url: start.href });
      }
      this.checkUrl(next, url);
      url = next;
    }
  }

  private once(method: 'GET' | 'HEAD', url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<WebResponse> {
    this.checkUrl(url);
    // net.connect looks up no IP literal: check it here.
    const literal = unbracketed(url.hostname);
    if (isIP(literal) !== 0 && !this.addressPermitted(literal, url)) return Promise.reject(this.refuseAddress(literal, url));
    let refusal: IngestError | undefined;
    const lookup = this.checkedLookup(url, (err) => (refusal = err));
    const failed = (err: Error): unknown => {
      if (refusal) return refusal;
      if (signal?.aborted) return signal.reason;
      const code = (err as NodeJS.ErrnoException).code;
      return new IngestError('SOURCE_UNAVAILABLE', `${url.host} could not be reached for ${url.href}: ${err.message}`, { url: url.href, ...(code ? { errno: code } : {}) }, { cause: err });
    };
    const sent = { 'user-agent': 'citus-ingest', ...headers };
    if (method === 'GET') {
      const request = getOnce({
        protocol: url.protocol === 'https:' ? 'https:' : 'http:',
        hostname: literal,
        port: url.port ? Number(url.port) : undefined,
        target: `${url.pathname}${url.search}`,
        headers: sent,
        idleTimeoutMs: this.timeoutMs,
        connect: { lookup },
        ...(signal ? { signal } : {}),
      });
      return request.then((res) => ({ status: res.status, headers: res.headers, body: res.body, url }), (err: Error) => Promise.reject(failed(err)));
    }
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method, headers: sent, lookup, agent: false, timeout: this.timeoutMs, ...(signal ? { signal } : {}) });
      req.once('timeout', () => req.destroy(new Error(`no answer for ${this.timeoutMs} ms`)));
      req.on('error', (err) => reject(failed(err)));
      req.once('response', (body: IncomingMessage) => resolve({ status: body.statusCode ?? 0, headers: body.headers, body, url }));
      req.end();
    });
  }
}

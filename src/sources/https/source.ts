// A public object served over HTTPS (a dataset mirror) as an ObjectSource. The ledger needs to know
// which version of the object it loaded, so an object must come with an ETag or a Last-Modified, and
// every GET is pinned to it (If-Match, else If-Unmodified-Since, and the answer's own validator is
// compared too, for servers that ignore preconditions). Bytes arrive as stored: the request asks for no
// compression, so sizes and byte ranges are those of the stored object.
import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { IngestError } from '../../errors.js';
import { checkKey } from '../keys.js';
import type { ByteRange, ObjectInfo, ObjectRef, ObjectSource, SchemeParser } from '../source.js';
import type { Resolver } from '../../net/outbound/policy.js';
import { WebClient, type WebResponse } from './client.js';
import type { HttpsSettings } from './settings.js';

export interface HttpsSourceOptions {
  /** httpsScheme or httpScheme: one source per scheme. */
  parser: SchemeParser;
  settings: HttpsSettings;
  /** Idle time on a connection before it fails. Default 30000 ms. */
  timeoutMs?: number;
  /** Host names to addresses, each checked before the connect. Default: the system resolver. */
  resolve?: Resolver;
}

// Accept-Encoding: identity, or a server may compress on the fly: other bytes, other sizes, no ranges.
const IDENTITY = { 'accept-encoding': 'identity' };

/** An entity-tag (`"x"` or `W/"x"`), as opposed to an HTTP date; a version is one or the other. */
const isEntityTag = (version: string): boolean => version.startsWith('"') || version.startsWith('W/"');

export class HttpsSource implements ObjectSource {
  /** A web server has no listing: a prefix loads through a marker's manifest only. */
  readonly listable = false;
  readonly scheme: string;
  private readonly client: WebClient;

  constructor(private readonly o: HttpsSourceOptions) {
    this.scheme = o.parser.scheme;
    this.client = new WebClient({
      ...o.settings,
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.resolve ? { resolve: o.resolve } : {}),
    });
  }

  /** Closes the connections kept open between requests. */
  close(): Promise<void> {
    return this.client.close();
  }

  url(ref: ObjectRef): string {
    return this.o.parser.url(ref);
  }

  checkAllowed(ref: ObjectRef): void {
    this.client.checkUrl(new URL(this.url(ref)));
  }

  /** The IngestError for an answer that is not the one asked for. */
  private statusError(res: WebResponse, ref: ObjectRef): IngestError {
    res.body.resume();
    const url = this.url(ref);
    const details = { url, status: res.status, ...(res.url.href !== url ? { redirectedTo: res.url.href } : {}) };
    switch (res.status) {
      case 404:
      case 410:
        return new IngestError('SOURCE_NOT_FOUND', `${url} does not exist (HTTP ${res.status}); check source.url`, details);
      case 401:
      case 403:
        return new IngestError('SOURCE_ACCESS_DENIED', `${res.url.host} refused ${url} (HTTP ${res.status}); https sources send no credentials, so the object must be public`, details);
      case 412:
      case 416:
        return new IngestError('SOURCE_CHANGED', `${url} was rewritten after it was listed (HTTP ${res.status}); nothing from the new version was loaded`, details);
      default:
        return new IngestError('SOURCE_UNAVAILABLE', `${res.url.host} answered HTTP ${res.status} for ${url}`, details);
    }
  }

  async head(ref: ObjectRef, signal?: AbortSignal): Promise<ObjectInfo> {
    checkKey(ref.key, '/source/url');
    if (ref.key.endsWith('/')) throw this.notListable(ref);
    const res = await this.client.request('HEAD', new URL(this.url(ref)), IDENTITY, signal);
    if (res.status !== 200) throw this.statusError(res, ref);
    res.body.resume();
    const url = this.url(ref);
    const length = res.headers['content-length'];
    if (length === undefined || !/^\d+$/.test(length)) {
      throw new IngestError('SOURCE_UNVERSIONED', `${url}: the server sends no Content-Length, and an object's size is part of what the ledger records; serve it with Content-Length`, { url });
    }
    const version = res.headers.etag ?? res.headers['last-modified'];
    if (version === undefined || version === '') {
      throw new IngestError(
        'SOURCE_UNVERSIONED',
        `${url}: the server sends neither ETag nor Last-Modified, so a rewrite of the object could not be told apart and the ledger could not load it exactly once; serve it with an ETag or Last-Modified header`,
        { url },
      );
    }
    const lastModified = parseDate(res.headers['last-modified']);
    return {
      scheme: this.scheme, container: ref.container, key: ref.key,
      size: Number(length),
      version,
      contentEncoding: encodingOf(res.headers),
      ...(lastModified ? { lastModified } : {}),
    };
  }

  private notListable(ref: ObjectRef): IngestError {
    return new IngestError(
      'INVALID_SPEC',
      `${this.url(ref)} ends in "/", but a web server cannot be listed: ${this.scheme}:// sources load single objects; name one object, or submit one job per object`,
      { field: '/source/url', reason: `${this.scheme}:// sources load single objects, not prefixes` },
    );
  }

  async *list(prefix: ObjectRef, _signal?: AbortSignal): AsyncGenerator<ObjectInfo[]> {
    throw this.notListable(prefix);
  }

  /** Headers that make the server answer only for `info`'s version. */
  private preconditions(info: ObjectInfo): Record<string, string> {
    // If-Match compares strongly: a weak ETag never matches it, so that case falls back to the date.
    if (isEntityTag(info.version) && !info.version.startsWith('W/')) return { 'if-match': info.version };
    if (!isEntityTag(info.version)) return { 'if-unmodified-since': info.version };
    return info.lastModified ? { 'if-unmodified-since': info.lastModified.toUTCString() } : {};
  }

  async open(info: ObjectInfo, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    checkKey(info.key, '/source/url');
    if (range && range.end <= range.start) return Readable.from([]);
    const url = this.url(info);
    const partial = range !== undefined && (range.start > 0 || range.end < info.size);
    const res = await this.client.request('GET', new URL(url), {
      ...IDENTITY,
      ...this.preconditions(info),
      ...(partial ? { range: `bytes=${range.start}-${range.end - 1}` } : {}),
    }, signal);
    if (res.status !== 200 && !(res.status === 206 && partial)) throw this.statusError(res, info);
    // Servers that ignore preconditions still say which version they sent.
    const sent = isEntityTag(info.version) ? res.headers.etag : res.headers['last-modified'];
    const changed = (sent !== undefined && sent !== info.version) || (res.status === 200 && res.headers['content-length'] !== undefined && Number(res.headers['content-length']) !== info.size);
    if (changed) {
      res.body.destroy();
      throw new IngestError('SOURCE_CHANGED', `${url} was rewritten after it was listed (now ${sent ?? `${res.headers['content-length']} bytes`}, was ${info.version}); nothing from the new version was loaded`, { url });
    }
    if (partial && res.status === 200) {
      res.body.destroy();
      throw new IngestError(
        'SOURCE_RANGE_UNSUPPORTED',
        `${url}: the server ignores byte ranges (it answered a request for bytes ${range.start}-${range.end - 1} with the whole object), so a chunked load (atomicity "chunk") cannot read it; load it whole`,
        { url },
      );
    }
    if (partial) this.checkContentRange(res, info, range);
    if (res.headers['content-encoding'] && !info.contentEncoding) info.contentEncoding = encodingOf(res.headers);
    return this.mappedBody(res, url);
  }

  private checkContentRange(res: WebResponse, info: ObjectInfo, range: ByteRange): void {
    const url = this.url(info);
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
    if (m && m[3] !== '*' && Number(m[3]) !== info.size) {
      res.body.destroy();
      throw new IngestError('SOURCE_CHANGED', `${url} was rewritten after it was listed (now ${m[3]} bytes, was ${info.size}); nothing from the new version was loaded`, { url });
    }
    if (!m || Number(m[1]) !== range.start || Number(m[2]) !== range.end - 1) {
      res.body.destroy();
      throw new IngestError(
        'SOURCE_RANGE_UNSUPPORTED',
        `${url}: asked for bytes ${range.start}-${range.end - 1}, the server sent ${JSON.stringify(res.headers['content-range'] ?? 'no Content-Range')}; a chunked load (atomicity "chunk") cannot read it; load it whole`,
        { url },
      );
    }
  }

  /** The body, with a connection lost halfway turned into SOURCE_UNAVAILABLE (retried). */
  private mappedBody(res: WebResponse, url: string): Readable {
    const out = new PassThrough();
    res.body.on('error', (err) => {
      out.destroy(new IngestError('SOURCE_UNAVAILABLE', `reading ${url} failed: ${err.message}`, { url }, { cause: err }));
    });
    // A consumer that stops early must not leave the connection open.
    out.once('close', () => res.body.destroy());
    return res.body.pipe(out);
  }

  async readText(ref: ObjectRef, signal: AbortSignal): Promise<string | undefined> {
    checkKey(ref.key, '/source/url');
    const res = await this.client.request('GET', new URL(this.url(ref)), IDENTITY, signal);
    if (res.status === 404 || res.status === 410) {
      res.body.resume();
      return undefined;
    }
    if (res.status !== 200) throw this.statusError(res, ref);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new IngestError('SOURCE_UNAVAILABLE', `reading ${this.url(ref)} failed: ${(err as Error).message}`, { url: this.url(ref) }, { cause: err });
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * Resolves: an https source has no endpoint of its own to check. Each job names its host; a mirror
   * that is down fails that job's loads (SOURCE_UNAVAILABLE, retried) and must not mark the whole
   * service unready.
   */
  async ping(_signal?: AbortSignal): Promise<void> {}
}

function parseDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function encodingOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['content-encoding']?.trim().toLowerCase();
  return value && value !== 'identity' ? value : undefined;
}

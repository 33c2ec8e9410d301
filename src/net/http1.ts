// One HTTP/1.1 GET on a connection of its own, its body a stream of the socket's own reads.
//
// Left only for the `https://` source (sources/https/client.ts), which is moving to undici: then this
// file, chunkedBody.ts and responseHead.ts go. S3 GETs no longer come here: measured against undici's
// request() on 2026-12-07 the CPU it saved did not reach 10% of a load's over TLS, and none over plain
// HTTP in whole loads (docs/performance.md, "Hand-built parts (issue #31)").
//
// What it does not do, on purpose: keep connections alive (a request says `Connection: close`), send a
// request body, follow redirects or speak HTTP/2.
import net from 'node:net';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { ChunkedBody } from './chunkedBody.js';
import { bodyFraming, headEnd, parseHead, type BodyFraming, type ResponseHead } from './responseHead.js';

export interface GetRequest {
  protocol: 'http:' | 'https:';
  /** A name or an IP address (an IPv6 address without brackets). */
  hostname: string;
  /** The scheme's default (80, 443) when absent. */
  port?: number;
  /** The request target: the path and query, already percent-encoded. */
  target: string;
  /** Header fields to send; `host` and `connection` are added unless given. */
  headers: Record<string, string>;
  signal?: AbortSignal;
  /**
   * Time without a byte while this client waits on the network (connecting, the head, body bytes the
   * reader asked for) before the request fails with ETIMEDOUT. Time the reader spends not reading does
   * not count. 0: no limit.
   */
  idleTimeoutMs: number;
  /** More options for net.connect or tls.connect (a lookup hook, a CA for tests). */
  connect?: Partial<tls.ConnectionOptions>;
}

export interface GetResponse extends ResponseHead {
  /** The body; the caller reads it to its end or destroys it (which closes the connection). */
  body: Readable;
}

/** Bytes the body buffers before the socket stops reading. */
const BODY_HIGH_WATER = 256 * 1024;
const EMPTY = Buffer.alloc(0);

function networkError(message: string, code: string, name = 'Error'): Error {
  return Object.assign(new Error(message), { code, name });
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('the request was aborted', { cause: signal.reason }), { name: 'AbortError' });
}

/** A request with its port filled in. */
type Addressed = GetRequest & { port: number };

const defaultPort = (protocol: GetRequest['protocol']): number => (protocol === 'https:' ? 443 : 80);

function requestHead(req: Addressed): string {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) fields[name.toLowerCase()] = value;
  const bracketed = net.isIPv6(req.hostname) ? `[${req.hostname}]` : req.hostname;
  fields.host ??= req.port === defaultPort(req.protocol) ? bracketed : `${bracketed}:${req.port}`;
  fields.connection ??= 'close';
  if (/\s/.test(req.target)) throw new TypeError(`the request target holds a space or line break: ${JSON.stringify(req.target)}`);
  let head = `GET ${req.target} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(fields)) {
    if (/[\r\n]/.test(name + value)) throw new TypeError(`header field ${name} holds a line break`);
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

/** The response body: the socket's reads as they come, with the socket paused while the reader is full. */
class BodyStream extends Readable {
  constructor(private readonly exchange: Exchange) {
    super({ highWaterMark: BODY_HIGH_WATER });
  }

  override _read(): void {
    this.exchange.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.exchange.close();
    callback(err);
  }
}

/** One request and its response on one socket. */
class Exchange {
  private head: Buffer = EMPTY;
  private body: BodyStream | undefined;
  private framing: BodyFraming = { kind: 'close' };
  private chunked: ChunkedBody | undefined;
  /** Body bytes still to come for a Content-Length body. */
  private left = 0;
  private received = 0;
  private complete = false;
  /** The body's first bytes (those that came with the head), kept until the reader first reads. */
  private held: Buffer | undefined;
  /** The reader's buffer is full: the socket waits for its next read. */
  private full = false;
  private readonly socket: net.Socket;
  private readonly onAbort: () => void;

  constructor(
    private readonly req: Addressed,
    private readonly resolve: (res: GetResponse) => void,
    private readonly reject: (err: Error) => void,
  ) {
    const request = requestHead(req);
    const options = { host: req.hostname, port: req.port, ...req.connect };
    this.socket =
      req.protocol === 'https:'
        ? tls.connect({ ...options, ...(net.isIP(req.hostname) ? {} : { servername: req.hostname }) })
        : net.connect(options as net.TcpNetConnectOpts);
    this.socket.on('data', (bytes: Buffer) => this.receive(bytes));
    this.socket.setNoDelay(true);
    this.socket.setTimeout(req.idleTimeoutMs);
    this.socket.on('timeout', () => {
      this.fail(networkError(`no bytes from ${req.hostname}:${req.port} for ${req.idleTimeoutMs} ms`, 'ETIMEDOUT', 'TimeoutError'));
    });
    this.socket.on('end', () => this.ended());
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.ended());
    this.onAbort = () => this.fail(abortError(req.signal!));
    req.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.socket.write(request);
  }

  /** The reader wants more: read again, and wait on the network with the idle limit. */
  resume(): void {
    if (this.complete || this.socket.destroyed) return;
    this.full = false;
    const held = this.held;
    this.held = undefined;
    if (held) {
      this.receive(held);
      if (this.complete || this.full) return;
    }
    this.socket.setTimeout(this.req.idleTimeoutMs);
    this.socket.resume();
  }

  /** The reader is done with the body, or it failed: the connection goes. */
  close(): void {
    this.req.signal?.removeEventListener('abort', this.onAbort);
    this.socket.destroy();
    this.held = undefined;
  }

  /** Bytes from the socket (or held since the head): a response that breaks the protocol fails the exchange. */
  private receive(bytes: Buffer): void {
    try {
      this.take(bytes);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private take(bytes: Buffer): void {
    if (this.body) return this.bodyBytes(bytes);
    this.head = this.head.length === 0 ? bytes : Buffer.concat([this.head, bytes]);
    const end = headEnd(this.head);
    if (end < 0) return;
    const head = parseHead(this.head.subarray(0, end));
    const rest = this.head.subarray(end);
    this.head = EMPTY;
    // An interim answer (100 Continue, 103 Early Hints) comes before the real one.
    if (head.status < 200) {
      if (rest.length > 0) this.take(rest);
      return;
    }
    this.framing = bodyFraming(head);
    if (this.framing.kind === 'length') this.left = this.framing.length;
    if (this.framing.kind === 'chunked') this.chunked = new ChunkedBody();
    this.body = new BodyStream(this);
    // Nothing more happens to the body until its reader first reads: an error in the bytes that came
    // with the head then reaches the reader, not a stream nobody listens to yet.
    this.socket.setTimeout(0);
    this.socket.pause();
    if (rest.length > 0) this.held = rest;
    this.resolve({ ...head, body: this.body });
    if (this.framing.kind === 'none' || (this.framing.kind === 'length' && this.left === 0)) this.finish();
  }

  private bodyBytes(bytes: Buffer): void {
    if (this.complete) return;
    switch (this.framing.kind) {
      case 'length': {
        const n = Math.min(this.left, bytes.length);
        this.push(n === bytes.length ? bytes : bytes.subarray(0, n));
        this.left -= n;
        if (this.left === 0) this.finish();
        return;
      }
      case 'chunked':
        if (this.chunked!.feed(bytes, (data) => this.push(data)) >= 0) this.finish();
        return;
      default:
        this.push(bytes);
    }
  }

  private push(data: Buffer): void {
    this.received += data.length;
    if (!this.body!.push(data)) {
      // The wait is the reader's now, not the network's.
      this.full = true;
      this.socket.setTimeout(0);
      this.socket.pause();
    }
  }

  private finish(): void {
    this.complete = true;
    this.body!.push(null);
    this.close();
  }

  /** The connection ended (the server closed it, or it broke): the end of a body read to close, else a failure. */
  private ended(): void {
    if (this.complete) return;
    if (this.body && this.framing.kind === 'close' && !this.socket.errored) return this.finish();
    const expected = this.framing.kind === 'length' ? ` of ${this.received + this.left}` : '';
    const message = this.body
      ? `${this.req.hostname}:${this.req.port} closed the connection after ${this.received}${expected} body bytes`
      : `${this.req.hostname}:${this.req.port} closed the connection before answering`;
    this.fail(networkError(message, 'ECONNRESET'));
  }

  private fail(err: Error): void {
    if (this.complete) return;
    this.complete = true;
    this.close();
    if (this.body) this.body.destroy(err);
    else this.reject(err);
  }
}

/**
 * Sends a GET and resolves with the response's head once it has come (any status: the caller judges
 * it), the body streaming after. Rejects when no response head comes: the connection failed, closed,
 * timed out, or the signal aborted. A body cut short fails its stream with ECONNRESET, naming the bytes
 * it got; it never ends as if whole.
 */
export function getOnce(req: GetRequest): Promise<GetResponse> {
  if (req.signal?.aborted) return Promise.reject(abortError(req.signal));
  return new Promise((resolve, reject) => {
    try {
      new Exchange({ ...req, port: req.port ?? defaultPort(req.protocol) }, resolve, reject);
    } catch (err) {
      reject(err as Error);
    }
  });
}

// The head of an HTTP/1.1 response (status line and header fields), read from the bytes before the
// empty line that ends it. Pure: http1.ts feeds it what the socket gives and learns where the body starts.

/** The most bytes a response head may take; a server that sends more is not answering HTTP. */
export const MAX_HEAD_BYTES = 64 * 1024;

export interface ResponseHead {
  status: number;
  reason: string;
  /** Field names lower-cased; a field sent more than once is joined with ", " (RFC 9110, 5.3). */
  headers: Record<string, string>;
}

/** A response that is not HTTP/1.x as this client reads it. */
export class HttpProtocolError extends Error {
  readonly code = 'EPROTO';
  override readonly name = 'HttpProtocolError';
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Where the head ends in `bytes` (the index just past its empty line), or -1 while it has not ended.
 * Throws once MAX_HEAD_BYTES have gone by without an end.
 */
export function headEnd(bytes: Buffer): number {
  const at = bytes.indexOf(CRLFCRLF);
  if (at >= 0) return at + 4;
  if (bytes.length > MAX_HEAD_BYTES) throw new HttpProtocolError(`the response head is longer than ${MAX_HEAD_BYTES} bytes`);
  return -1;
}

/** Parses a whole head (the bytes up to and including its empty line). */
export function parseHead(head: Buffer): ResponseHead {
  const lines = head.toString('latin1').split('\r\n');
  const statusLine = lines[0] ?? '';
  const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!status) throw new HttpProtocolError(`not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpProtocolError(`not a header field: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { status: Number(status[1]), reason: status[2] ?? '', headers };
}

/** How the body after a head is delimited (RFC 9112, 6.3), for a GET. */
export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

export function bodyFraming(head: ResponseHead): BodyFraming {
  if (head.status === 204 || head.status === 304) return { kind: 'none' };
  const coding = head.headers['transfer-encoding'];
  if (coding !== undefined) {
    if (/(^|,)\s*chunked\s*$/i.test(coding)) return { kind: 'chunked' };
    return { kind: 'close' };
  }
  const length = head.headers['content-length'];
  if (length !== undefined) {
    // A repeated field arrives joined ("10, 10"); its values must agree.
    const values = new Set(length.split(',').map((v) => v.trim()));
    const only = [...values][0]!;
    if (values.size !== 1 || !/^\d{1,15}$/.test(only)) throw new HttpProtocolError(`bad Content-Length: ${JSON.stringify(length)}`);
    return { kind: 'length', length: Number(only) };
  }
  return { kind: 'close' };
}

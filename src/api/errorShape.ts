// The one error shape, `{ "error": { "code", "message", "details" } }`, for the answers Fastify and
// Node write on their own (a path parameter too long, a malformed URL, headers too large, a request
// that timed out, a body too large or of another media type) and for bull-board's JSON errors, which
// come in its own shape.
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { errorCodes, type ErrorCode } from '../errors.js';

export interface ErrorPayload {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> };
}

export function errorPayload(code: ErrorCode, message: string, details: Record<string, unknown> = {}): ErrorPayload {
  return { error: { code, message, details } };
}

/** Fastify's own client errors (content-type parsing, body limits) as this service's codes. */
export function fastifyClientError(err: FastifyError, specBody: boolean): { status: number; payload: ErrorPayload } {
  const details = { fastifyCode: err.code };
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, payload: errorPayload('BODY_TOO_LARGE', 'the request body is larger than 1 MiB', details) };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, payload: errorPayload('UNSUPPORTED_MEDIA_TYPE', `the body's content type is not supported: send application/json`, details) };
    default: {
      // Malformed or empty JSON, a bad Content-Length: the body (a job spec on POST /jobs) is invalid.
      const code = specBody ? 'INVALID_SPEC' : 'INVALID_REQUEST';
      return { status: err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400, payload: errorPayload(code, err.message, details) };
    }
  }
}

/** Errors the router meets before a route runs (Fastify's `frameworkErrors`). */
function onFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const path = req.url.split('?')[0] ?? '';
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    // The path itself stays out of the answer: it is what was too long.
    const limit = (req.server.initialConfig as { maxParamLength?: number }).maxParamLength ?? 100;
    void reply.code(414).send(errorPayload('URL_TOO_LONG', `a path parameter is longer than ${limit} characters`, { limit }));
    return;
  }
  if (err.code === 'FST_ERR_BAD_URL') {
    void reply.code(400).send(errorPayload('INVALID_REQUEST', 'the URL path is not valid (a malformed percent-encoding?)', { fastifyCode: err.code, length: path.length }));
    return;
  }
  req.log.error({ err }, 'router error');
  void reply.code(500).send(errorPayload('INTERNAL', `internal error: ${err.message}`));
}
export const frameworkErrors = onFrameworkError as unknown as NonNullable<FastifyServerOptions['frameworkErrors']>;

/** Errors Node's HTTP parser meets before Fastify has a request (Fastify's `clientErrorHandler`). */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, payload] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, errorPayload('REQUEST_TIMEOUT', 'the request did not arrive in time')]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, errorPayload('HEADERS_TOO_LARGE', 'the request headers are larger than 16 KiB')]
        : [400, errorPayload('INVALID_REQUEST', 'the request is not valid HTTP', { parserCode: err.code ?? 'unknown' })];
  const body = JSON.stringify(payload);
  const reason = status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/**
 * An onSend hook turning another component's JSON error (bull-board's `{ error: { key } }` or
 * `{ error: "..." }`) into the one shape; an answer already in it passes untouched.
 */
export async function reshapeForeignError(_req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
  if (!/json/.test(String(reply.getHeader('content-type') ?? ''))) return payload;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return payload;
  }
  const error = (parsed as { error?: unknown } | null)?.error as Record<string, unknown> | string | undefined;
  if (error && typeof error === 'object' && typeof error.code === 'string' && error.code in errorCodes && typeof error.message === 'string' && typeof error.details === 'object') {
    return payload;
  }
  const code: ErrorCode = reply.statusCode === 404 ? 'NOT_FOUND' : reply.statusCode < 500 ? 'INVALID_REQUEST' : 'INTERNAL';
  const key = error && typeof error === 'object' && typeof error.key === 'string' ? error.key : undefined;
  const message = key
    ? key.replace(/^ERRORS\./, '').toLowerCase().replace(/_/g, ' ')
    : typeof error === 'string'
      ? error
      : typeof (parsed as { message?: unknown }).message === 'string'
        ? String((parsed as { message: string }).message)
        : `request failed with status ${reply.statusCode}`;
  const details: Record<string, unknown> = {};
  if (key) details.key = key;
  const options = error && typeof error === 'object' ? error.options : undefined;
  if (options && typeof options === 'object') Object.assign(details, options);
  return JSON.stringify(errorPayload(code, message, details));
}

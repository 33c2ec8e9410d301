// How the requests of the S3 client for large bodies travel (createS3Client's `largeBodies`): a GET goes
// through undici's request(), whose body is read with less CPU than node:http's (docs/performance.md,
// "Hand-built parts (issue #31)"); any other request (HEAD, PUT, with their bodies and `Expect:
// 100-continue`) through the SDK's own node:http handler. The SDK still signs, retries and reads errors.
import { buildQueryString, HttpResponse, type HttpHandler, type HttpRequest } from '@smithy/core/protocols';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions, NodeHttpHandlerOptions } from '@smithy/types';
import { request as undiciRequest } from 'undici';

/** Time without a byte from the store, while the loader waits for one, before a GET fails (and is retried). */
export const GET_IDLE_TIMEOUT_MS = 60_000;

export class S3RequestHandler implements HttpHandler<NodeHttpHandlerOptions> {
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(
    private readonly idleTimeoutMs = GET_IDLE_TIMEOUT_MS,
    private readonly others = new NodeHttpHandler(),
  ) {}

  async handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    if (request.method !== 'GET' || request.body != null || request.username != null) return this.others.handle(request, options);
    const query = request.query ? buildQueryString(request.query) : '';
    const port = request.port ? `:${request.port}` : '';
    const host = request.hostname.includes(':') && !request.hostname.startsWith('[') ? `[${request.hostname}]` : request.hostname;
    const idleTimeoutMs = options.requestTimeout ?? this.idleTimeoutMs;
    const res = await undiciRequest(`${request.protocol}//${host}${port}${request.path}${query ? `?${query}` : ''}`, {
      method: 'GET',
      headers: request.headers,
      ...(options.abortSignal ? { signal: options.abortSignal as AbortSignal } : {}),
      headersTimeout: idleTimeoutMs,
      bodyTimeout: idleTimeoutMs,
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    return { response: new HttpResponse({ statusCode: res.statusCode, headers, body: res.body }) };
  }

  updateHttpClientConfig(key: keyof NodeHttpHandlerOptions, value: NodeHttpHandlerOptions[typeof key]): void {
    this.others.updateHttpClientConfig(key, value);
  }

  httpHandlerConfigs(): NodeHttpHandlerOptions {
    return this.others.httpHandlerConfigs();
  }

  destroy(): void {
    this.others.destroy();
  }
}

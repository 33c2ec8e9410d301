// How the requests of the S3 client for large bodies travel (createS3Client's `largeBodies`): a GET goes
// through the project's own HTTP/1.1 GET (net/http1.ts), a connection of its own whose body is the
// socket's reads with no copy; any other request (HEAD, PUT, with their bodies and `Expect:
// 100-continue`) through the SDK's own node:http handler. The SDK still signs, retries and reads errors.
import { buildQueryString, HttpResponse, type HttpHandler, type HttpRequest } from '@smithy/core/protocols';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions, NodeHttpHandlerOptions } from '@smithy/types';
import { getOnce } from '../../net/http1.js';
import { unbracketed } from '../../net/specialAddresses.js';

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
    const https = request.protocol === 'https:';
    const query = request.query ? buildQueryString(request.query) : '';
    const res = await getOnce({
      protocol: https ? 'https:' : 'http:',
      hostname: unbracketed(request.hostname),
      port: request.port,
      target: query ? `${request.path}?${query}` : request.path,
      headers: request.headers,
      ...(options.abortSignal ? { signal: options.abortSignal as AbortSignal } : {}),
      idleTimeoutMs: options.requestTimeout ?? this.idleTimeoutMs,
    });
    return { response: new HttpResponse({ statusCode: res.status, reason: res.reason, headers: res.headers, body: res.body }) };
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

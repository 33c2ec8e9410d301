// OpenTelemetry tracing: the Node SDK with the HTTP, Fastify, PostgreSQL and Redis instrumentations,
// configured only by the standard OTEL_* variables (the SDK reads them itself: protocol, endpoint,
// sampler, service name, resource attributes). It starts only when an OTLP endpoint is set and
// OTEL_SDK_DISABLED is not true; otherwise nothing is loaded and every span the code asks for is the
// API's no-op. Started by entry.ts before it imports the rest of the service, so pg and ioredis are
// patched before anything uses them.
import { createRequire } from 'node:module';

export interface Tracing {
  /** Whether the SDK runs (an exporter is configured). */
  enabled: boolean;
  /** Sends the spans still buffered and stops the SDK. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, shutdown: async () => {} };

/**
 * Query parameters whose values an outgoing request's span shows as REDACTED: the instrumentation's own
 * list (S3, GCS and Azure signatures) and the tokens and keys an https:// source URL may carry.
 */
const REDACTED_QUERY_PARAMS = [
  'sig', 'Signature', 'AWSAccessKeyId', 'X-Goog-Signature', 'X-Goog-Credential', 'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token',
  'token', 'access_token', 'api_key', 'apikey', 'key', 'password', 'secret',
];

/**
 * Whether the environment asks for traces: an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and not OTEL_SDK_DISABLED=true. The OTEL_* variables are the
 * SDK's contract, so they are read here rather than through config.ts.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  if ((env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).includes('none')) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/** Starts the SDK when the environment asks for traces; returns how to stop it. */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<Tracing> {
  if (!tracingRequested(env)) return OFF;
  // Loaded only when tracing is on: a service without an exporter never loads the SDK.
  const [{ NodeSDK }, { HttpInstrumentation }, { PgInstrumentation }, { IORedisInstrumentation }, { FastifyOtelInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@fastify/otel'),
  ]);
  const sdk = new NodeSDK({
    // Metrics stay with Prometheus (/metrics) and logs with stdout: the SDK exports traces only.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        redactedQueryParams: REDACTED_QUERY_PARAMS,
        // Probes and scrapes would make a trace every few seconds and say nothing.
        ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)(\?|$)/.test(req.url ?? ''),
      }),
      new FastifyOtelInstrumentation({ registerOnInitialization: true, ignorePaths: (opts: { url: string }) => /^\/(healthz|readyz|metrics)$/.test(opts.url) }),
      // Only inside a trace: BullMQ polls Redis and the reconciler queries PostgreSQL all the time.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  // The instrumentations patch modules as CommonJS loads them. pg and ioredis are CommonJS packages that
  // the service (ESM) imports; loading them here first, through require, patches the one copy that
  // every later import gets.
  const require = createRequire(import.meta.url);
  require('pg');
  require('ioredis');
  return { enabled: true, shutdown: () => sdk.shutdown() };
}

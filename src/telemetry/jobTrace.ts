// A trace crosses the queue: a job queued inside a span (POST /jobs, a table operation, a schedule's
// tick) carries that span's W3C trace context in its BullMQ data, and the worker runs the job inside a
// span that continues it, so PostgreSQL and Redis calls made by the run nest under it. With tracing
// off, the carrier is empty and the span is the API's no-op.
import { SpanKind, SpanStatusCode, context, propagation, trace, type Span } from '@opentelemetry/api';
import { IngestError } from '../errors.js';

/** The trace context a queued job carries (W3C Trace Context headers). */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

const tracer = trace.getTracer('citus-ingest');

/** The active span's context as a carrier, to store with a job; empty outside a trace. */
export function traceCarrier(): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return {
    ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}

/** Marks a span failed, with the service's error code when there is one. */
export function recordFailure(span: Span, err: unknown): void {
  const code = err instanceof IngestError ? err.code : undefined;
  if (code) span.setAttribute('citus_ingest.error.code', code);
  span.recordException(err as Error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code ?? (err as Error)?.message });
}

export interface QueuedJob {
  id?: string | undefined;
  name: string;
  queueName: string;
  attemptsMade: number;
  data: unknown;
}

/** Runs a queued job inside a consumer span that continues the trace the job carries. */
export function inJobSpan<T>(job: QueuedJob, run: () => Promise<T>): Promise<T> {
  const carried = (job.data ?? {}) as TraceCarrier & { jobId?: string };
  const parent = propagation.extract(context.active(), {
    ...(carried.traceparent ? { traceparent: carried.traceparent } : {}),
    ...(carried.tracestate ? { tracestate: carried.tracestate } : {}),
  });
  const attributes = {
    'messaging.system': 'bullmq',
    'messaging.operation.type': 'process',
    'messaging.destination.name': job.queueName,
    ...(job.id ? { 'messaging.message.id': job.id } : {}),
    'citus_ingest.attempt': job.attemptsMade + 1,
    ...(carried.jobId ? { 'citus_ingest.job.id': carried.jobId } : {}),
  };
  return tracer.startActiveSpan(`${job.name} process`, { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
    try {
      return await run();
    } catch (err) {
      recordFailure(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

// What a log line written inside a span adds: the span's trace_id and span_id, so a log search finds
// the trace and a trace view finds the lines. Nothing outside a span (or with tracing off).
import { isSpanContextValid, trace } from '@opentelemetry/api';

export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ctx = span.spanContext();
  return isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
}

// Spans for what a run recorded: one span per source object and one child span per timed stage, built
// when the run's results are written (sql/runFiles.ts, sql/finishRun.ts) from the timings they carry.
// The load code measures each stage's duration, not its start, so a stage span's length is the measured
// one and its place is reconstructed: stages laid end to end, in pipeline order, ending when the result
// was recorded. A run's stage spans are the run's timings, where per-file stages (ledger claim, COPY,
// commit) are summed over its files. PostgreSQL and Redis spans nest under the run span, which is the
// active span while the run works. With no run span recording (tracing off), nothing is built.
import { SpanStatusCode, context, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { ErrorBody } from '../errors.js';
import type { Timings } from '../sql/jobRows.js';
import { sourceUrl } from '../sources/schemes.js';

/** What sql/runFiles.ts records for one object (the fields a span shows). */
export interface FileResult {
  runId: string;
  object: { scheme: string; container: string; key: string; size: number };
  status: string;
  rowsLoaded: number;
  rowsRejected?: number;
  bytesRead: number;
  timings: Timings;
  error?: ErrorBody;
}

/** What sql/finishRun.ts records for a run (the fields a span shows). */
export interface RunResult {
  jobId: string;
  runId: string;
  runStatus: string;
  rowsLoaded: number;
  rowsRejected?: number;
  bytesRead: number;
  timings: Timings;
  error?: ErrorBody;
}

type StageKey = keyof Timings;

/** The stages that become child spans, in pipeline order, with their span names. */
const STAGE_SPANS: ReadonlyArray<readonly [StageKey, string]> = [
  ['markerWaitMs', 'wait for marker'],
  ['headMs', 'listing/HEAD'],
  ['connectMs', 'connect'],
  ['targetMs', 'prepare target'],
  ['prepareMs', 'prepare'],
  ['ledgerMs', 'ledger claim'],
  ['mergeWaitMs', 'merge wait'],
  ['copyMs', 'COPY'],
  ['stageMs', 'stage'],
  ['mergeMs', 'merge'],
  ['commitMs', 'commit'],
  ['publishMs', 'publish'],
  ['analyzeMs', 'analyze'],
  ['layoutMs', 'shard layout'],
  ['rebalanceMs', 'rebalance'],
];

/** Parts of the COPY's time, kept as attributes of the COPY span. */
const COPY_PARTS: readonly StageKey[] = ['firstByteMs', 'scanMs', 'copyWaitMs', 'sourceWaitMs'];

const tracer = trace.getTracer('citus-ingest');

/** The run span the caller works under, when one is recording. */
function recordingSpan(): Span | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span : undefined;
}

/** An object's URL for a span: no user part and no query, so no credential or signature can be in it. */
export function spanUrl(ref: { scheme: string; container: string; key: string }): string {
  return sourceUrl(ref).replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1').replace(/[?#].*$/s, '');
}

function ms(timings: Timings, key: StageKey): number {
  const v = timings[key];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

/** The error code on the span; a failure (not a cancellation) also marks the span's status. */
function outcome(span: Span, status: string, error: ErrorBody | undefined): void {
  if (error) span.setAttribute('citus_ingest.error.code', error.code);
  if (status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: error?.code ?? 'failed' });
}

/** Child spans of `parent` for each timed stage, laid end to end from `start` and ending by `end`. */
function stageSpans(parent: Span, timings: Timings, start: number, end: number): void {
  const under = trace.setSpan(context.active(), parent);
  let at = start;
  for (const [key, name] of STAGE_SPANS) {
    const length = ms(timings, key);
    if (length === 0) continue;
    const attributes: Attributes = { 'citus_ingest.stage': key, 'citus_ingest.stage.ms': length };
    if (key === 'copyMs') {
      for (const part of COPY_PARTS) if (ms(timings, part) > 0) attributes[`citus_ingest.stage.${part}`] = ms(timings, part);
    }
    tracer.startSpan(name, { attributes, startTime: Math.min(at, end) }, under).end(Math.min(at + length, end));
    at += length;
  }
}

/** The time a result covers: its total when recorded, else the sum of its stages. */
function covered(timings: Timings): number {
  return ms(timings, 'totalMs') || STAGE_SPANS.reduce((sum, [key]) => sum + ms(timings, key), 0);
}

/** A span for one object's finished (or failed) load, with its stages, under the run span. */
export function traceRunFile(f: FileResult): void {
  const run = recordingSpan();
  if (!run || f.status === 'running') return;
  const end = Date.now();
  const start = end - covered(f.timings);
  const span = tracer.startSpan(
    'file',
    {
      startTime: start,
      attributes: {
        'url.full': spanUrl(f.object),
        'citus_ingest.file.status': f.status,
        'citus_ingest.file.size': f.object.size,
        'citus_ingest.file.bytes_read': f.bytesRead,
        'citus_ingest.file.rows_loaded': f.rowsLoaded,
        'citus_ingest.file.rows_rejected': f.rowsRejected ?? 0,
        'citus_ingest.run.id': f.runId,
      },
    },
    trace.setSpan(context.active(), run),
  );
  outcome(span, f.status, f.error);
  stageSpans(span, f.timings, start, end);
  span.end(end);
}

/** The run's outcome on the run span, and its stages as child spans. */
export function traceRunEnd(o: RunResult): void {
  const run = recordingSpan();
  if (!run) return;
  run.setAttributes({
    'citus_ingest.job.id': o.jobId,
    'citus_ingest.run.id': o.runId,
    'citus_ingest.run.status': o.runStatus,
    'citus_ingest.run.rows_loaded': o.rowsLoaded,
    'citus_ingest.run.rows_rejected': o.rowsRejected ?? 0,
    'citus_ingest.run.bytes_read': o.bytesRead,
  });
  outcome(run, o.runStatus, o.error);
  const end = Date.now();
  stageSpans(run, o.timings, end - covered(o.timings), end);
}

// Traces end to end: the real API and worker, each its own process, export to an OTLP/HTTP endpoint this
// test serves; a job submitted with a W3C traceparent yields one trace across both processes.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { createHarness, postJob, serviceEnv, SIXTEEN_TEXT_COLUMNS, waitForJob, type Harness } from './helpers/harness.js';
import { pricePaidCsv } from '../src/gen/pricePaid.js';
import { startTracing, tracingRequested } from '../src/telemetry/tracing.js';
import { traceCarrier } from '../src/telemetry/jobTrace.js';

// Four service processes start in this file; on the shared two-core machine one start can take a minute.
t.setTimeout(900_000);

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  service: string;
  scope: string;
  /** 0 unset, 1 ok, 2 error. */
  status: number;
}

type KeyValue = { key: string; value: Record<string, unknown> };

function attributeValue(v: Record<string, unknown>): unknown {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  return v;
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, attributeValue(a.value)]));
}

/** An OTLP/HTTP receiver: JSON bodies are decoded into spans, every body is kept raw. */
async function otlpReceiver(): Promise<{ server: Server; endpoint: string; spans: OtlpSpan[]; bodies: Array<{ type: string; body: Buffer }> }> {
  const spans: OtlpSpan[] = [];
  const bodies: Array<{ type: string; body: Buffer }> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const type = req.headers['content-type'] ?? '';
    bodies.push({ type, body });
    if (req.url === '/v1/traces' && type.includes('json')) {
      const doc = JSON.parse(body.toString('utf8'));
      for (const rs of doc.resourceSpans ?? []) {
        const service = String(attributes(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, kind: s.kind, attributes: attributes(s.attributes), service, scope: ss.scope?.name ?? '', status: s.status?.code ?? 0 });
          }
        }
      }
    }
    res.writeHead(200, { 'content-type': type.includes('json') ? 'application/json' : 'application/x-protobuf' }).end(type.includes('json') ? '{}' : '');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, bodies };
}

interface Child {
  process: ChildProcess;
  /** Parsed JSON log lines from its stdout. */
  lines: Array<Record<string, any>>;
  exited: Promise<number | null>;
}

function startProcess(h: Harness, role: 'api' | 'worker', env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/entry.ts', role], {
    env: {
      ...process.env,
      ...serviceEnv(h),
      PORT: '0',
      LOG_LEVEL: 'info',
      OTEL_SERVICE_NAME: `citus-ingest-${role}`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Array<Record<string, any>> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line));
    } catch {
      // not a log line
    }
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { process: child, lines, exited };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(child: Child): Promise<void> {
  if (child.process.exitCode !== null) return;
  child.process.kill('SIGTERM');
  await child.exited;
}

/** Runs one job with a traceparent through an API and a worker process exporting with `protocol`. */
async function tracedLoad(t: Test, protocol: string, rows: number) {
  const receiver = await otlpReceiver();
  const h = await createHarness();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol };
  const api = startProcess(h, 'api', otel);
  const worker = startProcess(h, 'worker', otel);
  t.teardown(async () => {
    await Promise.all([stop(api), stop(worker)]);
    await h.close();
    receiver.server.close();
  });
  await h.db.query(`CREATE TABLE ${h.schema}.traced (${SIXTEEN_TEXT_COLUMNS})`);
  const url = await h.put('traced/part-0.csv', pricePaidCsv(rows, 33));
  const apiUrl = await until('the API to listen', () => api.lines.find((l) => l.msg === 'API listening')?.url as string | undefined);
  await until('the worker to start', () => worker.lines.some((l) => l.msg === 'worker started'));

  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const { status, body } = await postJob(apiUrl, { source: { url }, target: { table: `${h.schema}.traced` } }, { traceparent: `00-${traceId}-${callerSpanId}-01` });
  t.equal(status, 202, 'job accepted');
  const job = await waitForJob(apiUrl, body.id, ['succeeded', 'failed']);
  t.equal(job.status, 'succeeded');
  const { rows: count } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.traced`);
  t.equal(count[0].n, rows, 'the rows are in the table');
  // A job that fails: its object does not exist.
  const failedTraceId = randomBytes(16).toString('hex');
  const missing = await postJob(apiUrl, { source: { url: `s3://${h.bucket}/traced/missing.csv` }, target: { table: `${h.schema}.traced` } }, { traceparent: `00-${failedTraceId}-${callerSpanId}-01` });
  const failedJob = await waitForJob(apiUrl, missing.body.id, ['succeeded', 'failed']);
  t.equal(failedJob.status, 'failed');
  // Both processes flush their last spans when they stop.
  await Promise.all([stop(api), stop(worker)]);
  return { receiver, traceId, callerSpanId, job, url, worker, failedTraceId, failedJob };
}

t.test('a job submitted with a traceparent continues that trace through the API, the queue and the worker', async (t) => {
  const { receiver, traceId, callerSpanId, job, url, worker, failedTraceId, failedJob } = await tracedLoad(t, 'http/json', 1_234);
  const spans = receiver.spans.filter((s) => s.traceId === traceId);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const children = (parent: OtlpSpan): OtlpSpan[] => spans.filter((s) => s.parentSpanId === parent.spanId);

  const request = spans.find((s) => s.service === 'citus-ingest-api' && s.parentSpanId === callerSpanId);
  t.ok(request, 'the API request span continues the caller\'s span');
  t.ok(spans.some((s) => s.service === 'citus-ingest-api' && s.scope === '@fastify/otel'), 'Fastify\'s spans are in the trace');

  const run = spans.find((s) => s.service === 'citus-ingest-worker' && s.name === 'load process');
  t.ok(run, 'the worker\'s run span is in the same trace');
  if (!run) return;
  t.equal(run.attributes['citus_ingest.job.id'], job.id);
  t.equal(run.attributes['citus_ingest.run.rows_loaded'], 1_234);
  t.equal(run.attributes['citus_ingest.run.status'], 'succeeded');
  // The run's parent is a span of the API's process: the context travelled with the BullMQ job.
  t.equal(byId.get(run.parentSpanId!)?.service, 'citus-ingest-api', 'the run\'s parent is the API\'s span');

  const file = children(run).find((s) => s.name === 'file');
  t.ok(file, 'a span for the file under the run');
  if (!file) return;
  t.equal(file.attributes['url.full'], url);
  t.equal(file.attributes['citus_ingest.file.rows_loaded'], 1_234);
  t.ok(Number(file.attributes['citus_ingest.file.bytes_read']) > 0, 'the file span has its bytes');
  t.ok(children(file).some((s) => s.name === 'COPY'), 'the file has a COPY child');
  const runStages = children(run).map((s) => s.name);
  t.ok(runStages.includes('COPY') && runStages.includes('commit'), `the run has COPY and commit children (got ${runStages.join(', ')})`);

  const pgSpans = spans.filter((s) => s.scope.includes('instrumentation-pg') && s.service === 'citus-ingest-worker');
  t.ok(pgSpans.length > 0, 'the worker\'s PostgreSQL calls are in the trace');
  const underRun = (s: OtlpSpan): boolean => {
    for (let p = s.parentSpanId && byId.get(s.parentSpanId); p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) if (p === run) return true;
    return false;
  };
  const statement = (s: OtlpSpan): string => String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? s.name);
  // The COPY ... FROM STDIN itself is a stream pg-copy-streams submits, which the pg instrumentation does
  // not trace; the statements around it are.
  t.ok(pgSpans.some((s) => underRun(s) && /INSERT INTO ingest\.file_ledger/.test(statement(s))), 'the ledger claim\'s pg span is under the run');
  t.ok(pgSpans.some((s) => underRun(s) && /^COMMIT/i.test(statement(s))), 'a COMMIT\'s pg span is under the run');
  t.ok(spans.some((s) => s.scope.includes('instrumentation-ioredis')), 'Redis calls are in the trace');

  const logged = worker.lines.find((l) => l.trace_id === traceId && l.msg === 'run succeeded');
  t.ok(logged, 'the run\'s log line carries the trace id');
  t.equal(logged?.span_id, run.spanId, 'and the run span\'s id');

  const failedRun = receiver.spans.find((s) => s.traceId === failedTraceId && s.name === 'load process');
  t.ok(failedRun, 'the failed job\'s run span is in its own trace');
  t.equal(failedRun?.attributes['citus_ingest.error.code'], failedJob.runs[0].error.code, 'it carries the run\'s error code');
  t.equal(failedRun?.attributes['citus_ingest.run.status'], 'failed');
  t.equal(failedRun?.status, 2, 'its status is ERROR');
});

t.test('http/protobuf: the spans reach the endpoint as protobuf', async (t) => {
  const { receiver, traceId } = await tracedLoad(t, 'http/protobuf', 50);
  const traces = receiver.bodies.filter((b) => b.type === 'application/x-protobuf');
  t.ok(traces.length > 0, 'protobuf requests arrived');
  // A protobuf span holds its trace id as 16 raw bytes and its name as UTF-8.
  const all = Buffer.concat(traces.map((b) => b.body));
  t.ok(all.includes(Buffer.from(traceId, 'hex')), 'the caller\'s trace id is in them');
  t.ok(all.includes(Buffer.from('load process')) && all.includes(Buffer.from('COPY')), 'the run and COPY spans are in them');
});

t.test('with no OTLP endpoint, or with OTEL_SDK_DISABLED=true, no SDK starts and nothing is propagated', async (t) => {
  t.notOk(tracingRequested({}), 'no endpoint');
  t.notOk(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }), 'disabled');
  t.notOk(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' }), 'exporter none');
  t.ok(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }), 'a traces endpoint alone is enough');
  const tracing = await startTracing({});
  t.equal(tracing.enabled, false);
  // No SDK: the API's no-op propagator injects nothing, and the SDK's modules were never loaded.
  t.same(traceCarrier(), {});
  const loaded = Object.keys((await import('node:module')).createRequire(import.meta.url).cache ?? {});
  t.notOk(loaded.some((p) => p.includes('@opentelemetry/sdk-node') || p.includes('@opentelemetry/sdk-trace')), 'the SDK was not loaded');
});

t.test('a worker with no endpoint sends nothing and its log lines carry no trace id', async (t) => {
  const receiver = await otlpReceiver();
  const h = await createHarness();
  const worker = startProcess(h, 'worker', {});
  const api = await h.start('api');
  t.teardown(async () => {
    await stop(worker);
    await h.close();
    receiver.server.close();
  });
  await h.db.query(`CREATE TABLE ${h.schema}.plain (${SIXTEEN_TEXT_COLUMNS})`);
  const url = await h.put('plain.csv', pricePaidCsv(20, 34));
  const { body } = await postJob(api.url!, { source: { url }, target: { table: `${h.schema}.plain` } }, { traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` });
  const job = await waitForJob(api.url!, body.id, ['succeeded', 'failed']);
  t.equal(job.status, 'succeeded');
  await stop(worker);
  const ran = worker.lines.find((l) => l.msg === 'run succeeded');
  t.ok(ran, 'the worker logged the run');
  t.notOk('trace_id' in (ran ?? {}), 'no trace id without tracing');
  t.equal(receiver.bodies.length, 0, 'nothing was sent');
});

// service xN: this project's service loading the object from S3 through its HTTP API, one fresh service
// process per timed load (started and ready before the clock starts). Timed from POST /jobs until
// GET /jobs/:id?wait= (held by the service until the job ends, so no polling loads the run) says succeeded. N > 1 asks for N parallel streams with
// chunk atomicity; an API that refuses those options skips the contender.
import { cpuMeter, sampleRss } from '../measure.js';
import { monotonicMicros } from '../profile.js';
import { startServiceProcess } from './serviceProcess.js';
import { createTable, settle } from '../target.js';
import { SkipContender, type Contender, type RunContext } from './types.js';

/** Each GET /jobs/:id?wait= holds this long at most; the service answers as soon as the job ends. */
const WAIT_SECONDS = 60;
const JOB_TIMEOUT_MS = 30 * 60_000;

interface JobView {
  id: string;
  status: string;
  error?: { code: string; message: string } | null;
  result?: { filesSkipped?: number } | null;
  runs?: Array<{ timings?: Record<string, number>; rowsLoaded?: number; bytesRead?: number; entryNodes?: unknown; entryChoice?: unknown }>;
}

export interface ServiceOptions {
  /** Load this source instead of the data file (e.g. the same rows cut into objects under a prefix). */
  sourceUrl?: () => string;
  /** Objects loaded at once (spec `concurrency`). */
  concurrency?: number;
  /** Spec maxErrors: above 0 the file loads in batches under savepoints (the isolating path). */
  maxErrors?: number;
  /** Spec format.type (the object's name would tell too). */
  format?: 'parquet';
  /**
   * Before the clock starts, the service loads the same source once into a scratch table (dropped
   * after): the timed load then runs on a load path V8 has compiled, as a worker's later jobs do. The
   * first load in a fresh process also pays for that compilation (and for its first S3 and database
   * calls); the difference between the two contenders is that fixed cost.
   */
  warmUp?: boolean;
  /** Hand-built parts turned off in the service's process (CITUS_INGEST_PLAIN, src/handbuilt/). */
  plain?: string;
  /** Spec target.entryNodes (Citus): where the rows enter (docs/entry-nodes.md). */
  entryNodes?: EntryNodesMode;
  name?: string;
}

export type EntryNodesMode = 'coordinator' | 'all' | 'auto';

/**
 * --entry-nodes: the service's load per entry mode, over ENTRY_STREAMS chunk streams, so that with
 * "all" the chunks can enter at the coordinator and both workers of the local cluster at once.
 */
export const ENTRY_STREAMS = 3;
export const entryContenderName = (mode: EntryNodesMode): string => `service x${ENTRY_STREAMS} entry ${mode}`;
export const entryNodesContender = (mode: EntryNodesMode): Contender => service(ENTRY_STREAMS, { entryNodes: mode, name: entryContenderName(mode) });

/** GET /jobs/:id?wait= until the job ends (succeeded, failed or cancelled); throws JOB_TIMEOUT_MS after `since`. */
async function jobEnd(url: string, id: string, since: number): Promise<JobView> {
  for (;;) {
    const job = (await (await fetch(`${url}/jobs/${id}?wait=${WAIT_SECONDS}`)).json()) as JobView;
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return job;
    if (performance.now() - since > JOB_TIMEOUT_MS) throw new Error(`job ${id} still ${job.status} after ${JOB_TIMEOUT_MS / 60_000} min`);
  }
}

function jobSpec(ctx: RunContext, table: string, streams: number, opts: ServiceOptions): Record<string, unknown> {
  const spec: Record<string, unknown> = { source: { url: opts.sourceUrl?.() ?? ctx.sourceUrl }, target: { table, ...(opts.entryNodes ? { entryNodes: opts.entryNodes } : {}) } };
  if (streams > 1) Object.assign(spec, { atomicity: 'chunk', streams });
  if (opts.concurrency) Object.assign(spec, { concurrency: opts.concurrency });
  if (opts.maxErrors) Object.assign(spec, { maxErrors: opts.maxErrors });
  if (opts.format) Object.assign(spec, { format: { type: opts.format } });
  return spec;
}

/** --warm: one load of the source into `table` (created here, dropped after), then a checkpoint, as before any timed load. */
async function loadOnce(url: string, ctx: RunContext, table: string, opts: ServiceOptions): Promise<void> {
  await createTable(ctx.target, table);
  try {
    const res = await fetch(`${url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(jobSpec(ctx, table, 1, opts)) });
    const body = (await res.json()) as { id?: string; error?: { code: string; message: string } };
    if (res.status !== 202 || !body.id) throw new Error(`warm-up: POST /jobs answered ${res.status}: ${JSON.stringify(body)}`);
    const job = await jobEnd(url, body.id, performance.now());
    if (job.status !== 'succeeded') throw new Error(`warm-up job ${job.id} ${job.status}: ${job.error?.code ?? ''} ${job.error?.message ?? ''}`);
  } finally {
    await ctx.target.db.query(`DROP TABLE IF EXISTS ${table}`);
  }
  await settle(ctx.target);
}

export function service(streams: number, opts: ServiceOptions = {}): Contender {
  const name = opts.name ?? `service x${streams}`;
  return {
    name,
    async run(ctx) {
      const svc = await startServiceProcess(ctx, opts.plain);
      if (opts.warmUp) await loadOnce(svc.url, ctx, `${ctx.table}_warmup`, opts);
      const sampler = sampleRss(svc.pid);
      let stopped = false;
      const peak = async (): Promise<number | null> => {
        if (stopped) return null;
        stopped = true;
        return sampler.stop();
      };
      try {
        const spec = jobSpec(ctx, ctx.table, streams, opts);
        const cpu = await cpuMeter(svc.pid);
        const nodeCpu = await ctx.nodeCpu?.();
        const t0 = performance.now();
        const fromUs = monotonicMicros();
        const res = await fetch(`${svc.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
        const body = (await res.json()) as { id?: string; error?: { code: string; message: string } };
        if (res.status === 400 && streams > 1) {
          throw new SkipContender(`${name}: skipped (the API does not accept atomicity=chunk yet: ${body.error?.message ?? JSON.stringify(body)})`);
        }
        if (res.status !== 202 || !body.id) throw new Error(`POST /jobs answered ${res.status}: ${JSON.stringify(body)}`);

        const job = await jobEnd(svc.url, body.id, t0);
        const seconds = (performance.now() - t0) / 1000;
        const toUs = monotonicMicros();
        const clientCpuS = await cpu();
        const nodes = await nodeCpu?.();
        // VmHWM now: the service's whole life so far, start-up included.
        const peakRssMb = await peak();
        if (job.status !== 'succeeded') {
          throw new Error(`job ${job.id} ${job.status}: ${job.error ? `${job.error.code}: ${job.error.message}` : 'no error recorded'}\n${svc.output().trim()}`);
        }
        const runs = job.runs ?? [];
        const last = runs[runs.length - 1];
        return {
          seconds,
          peakRssMb,
          clientCpuS,
          ...(last?.timings ? { timings: last.timings } : {}),
          ...(nodes ? { nodeCpu: nodes } : {}),
          extra: {
            jobId: job.id, attempts: runs.length, filesSkipped: job.result?.filesSkipped ?? 0, rowsLoaded: last?.rowsLoaded, bytesRead: last?.bytesRead,
            // Citus: where the run's rows entered (with the default "auto" too), for the per-node CPU table.
            ...(last?.entryNodes ? { entryNodes: last.entryNodes, entryChoice: last.entryChoice ?? null } : {}),
          },
          // Written when the process exits (below, before the harness reads it).
          ...(svc.profileFile ? { profile: { file: svc.profileFile, fromUs, toUs } } : {}),
        };
      } finally {
        await peak();
        await svc.stop();
      }
    },
  };
}

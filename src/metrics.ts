// Prometheus metrics. What a process does (rows, bytes, runs, stage durations, open COPY streams) is
// counted in one module-level registry, so the load code can count with a one-line call and several
// services in one process (the tests) share it without clashing. What the whole deployment holds (jobs
// by status in PostgreSQL, the BullMQ queue's depth) is read at scrape time, per service, into a
// registry of its own (`scrapeRegistry`), which the API merges with the process registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Pool } from './db/pool.js';
import type { Logger } from './log.js';
import type { LoadQueue } from './queue/queue.js';
import type { RunStatus, Timings } from './sql/jobRows.js';
import { withTimeout } from './timeout.js';

/** This process's metrics: counters, the stage histogram, open COPY streams, and Node's defaults. */
export const processRegistry = new Registry();
collectDefaultMetrics({ register: processRegistry });

const registers = [processRegistry];

const rowsLoaded = new Counter({ name: 'citus_ingest_rows_loaded_total', help: 'Rows committed into targets by finished runs.', registers });
const bytesRead = new Counter({ name: 'citus_ingest_bytes_read_total', help: 'Bytes read from object storage by finished runs.', registers });
const rowsRejected = new Counter({ name: 'citus_ingest_rows_rejected_total', help: 'Records rejected (kept in ingest.rejects) by finished runs.', registers });
const runs = new Counter({ name: 'citus_ingest_runs_total', help: 'Finished runs (attempts) by outcome.', labelNames: ['status'] as const, registers });
const stageSeconds = new Histogram({
  name: 'citus_ingest_stage_duration_seconds',
  help: 'Duration of each stage of a finished run; `stage` is the key of the run\'s timings (copyMs, commitMs, totalMs, ...).',
  labelNames: ['stage'] as const,
  buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600],
  registers,
});
const isolationCopies = new Counter({
  name: 'citus_ingest_isolation_copies_total',
  help: 'COPY statements sent to isolate the bad records of batches whose COPY failed, by where they went: `into` the target (BatchCopier) or the stage (batchStage.ts).',
  labelNames: ['into'] as const,
  registers,
});
const stagedBatches = new Counter({
  name: 'citus_ingest_staged_batches_total',
  help: 'Failed batches sent through the stage, by outcome: loaded there, or fell back to isolating record by record.',
  labelNames: ['outcome'] as const,
  registers,
});
for (const into of ['target', 'stage']) isolationCopies.inc({ into }, 0);
for (const outcome of ['loaded', 'fell_back']) stagedBatches.inc({ outcome }, 0);

/** Counts a COPY sent while isolating bad records. */
export function countIsolationCopy(into: 'target' | 'stage'): void {
  isolationCopies.inc({ into });
}

/** Counts a failed batch that went through the stage. */
export function countStagedBatch(outcome: 'loaded' | 'fell_back'): void {
  stagedBatches.inc({ outcome });
}

const copyStreams = new Gauge({ name: 'citus_ingest_copy_streams_active', help: 'COPY ... FROM STDIN streams open right now in this process.', registers });

export type RunMetricStatus = 'succeeded' | 'failed' | 'cancelled';
// Every outcome is a series from the start, so rate() and increase() see the first run too.
for (const status of ['succeeded', 'failed', 'cancelled'] satisfies RunMetricStatus[]) runs.inc({ status }, 0);

/** Counts a finished run: its rows, bytes and rejects, and one observation per timed stage. */
export function observeRun(run: { status: RunMetricStatus; rowsLoaded: number; rowsRejected?: number | undefined; bytesRead: number; timings: Timings }): void {
  runs.inc({ status: run.status });
  if (run.rowsLoaded > 0) rowsLoaded.inc(run.rowsLoaded);
  if (run.bytesRead > 0) bytesRead.inc(run.bytesRead);
  if (run.rowsRejected) rowsRejected.inc(run.rowsRejected);
  for (const [stage, ms] of Object.entries(run.timings)) {
    if (stage.endsWith('Ms') && typeof ms === 'number' && Number.isFinite(ms)) stageSeconds.observe({ stage }, ms / 1000);
  }
}

/** Adds one to `gauge` until `done` settles either way; returns `done` unchanged. */
function countWhile<T>(gauge: Gauge, done: Promise<T>): Promise<T> {
  gauge.inc();
  const settled = (): void => {
    gauge.dec();
  };
  done.then(settled, settled);
  return done;
}

/**
 * Counts a COPY stream as open until `done` (the stream's `finished` promise) settles either way; returns
 * `done` unchanged, so a call site stays one line: `await trackCopy(finished(copy))`.
 */
export function trackCopy<T>(done: Promise<T>): Promise<T> {
  return countWhile(copyStreams, done);
}

// Per target table (the label is the table, "schema"."table": as many series as tables loaded). Counted
// when a run's result is recorded (sql/finishRun.ts), so loads and table operations alike.
const targetRows = new Counter({ name: 'citus_ingest_target_rows_loaded_total', help: 'Rows committed into each target table by finished runs.', labelNames: ['target'] as const, registers });
const targetBytes = new Counter({ name: 'citus_ingest_target_bytes_read_total', help: 'Bytes read for each target table by finished runs.', labelNames: ['target'] as const, registers });
const targetRejects = new Counter({ name: 'citus_ingest_target_rows_rejected_total', help: 'Records rejected for each target table by finished runs.', labelNames: ['target'] as const, registers });
const targetRuns = new Counter({ name: 'citus_ingest_target_runs_total', help: 'Finished runs of each target table by outcome.', labelNames: ['target', 'status'] as const, registers });
const targetSucceededSeconds = new Counter({
  name: 'citus_ingest_target_succeeded_run_seconds_total',
  help: 'Seconds taken by the succeeded runs of each target table; with citus_ingest_target_succeeded_run_bytes_total, the usual bytes/s of a target.',
  labelNames: ['target'] as const,
  registers,
});
const targetSucceededBytes = new Counter({ name: 'citus_ingest_target_succeeded_run_bytes_total', help: 'Bytes read by the succeeded runs of each target table.', labelNames: ['target'] as const, registers });

/** Counts a finished run against its target table. */
export function observeTargetRun(run: { target: string; status: RunStatus; rowsLoaded: number; rowsRejected?: number | undefined; bytesRead: number; seconds: number }): void {
  const target = run.target;
  targetRuns.inc({ target, status: run.status });
  targetRows.inc({ target }, run.rowsLoaded);
  targetBytes.inc({ target }, run.bytesRead);
  targetRejects.inc({ target }, run.rowsRejected ?? 0);
  if (run.status === 'succeeded') {
    targetSucceededSeconds.inc({ target }, run.seconds);
    targetSucceededBytes.inc({ target }, run.bytesRead);
  }
}

const workerBusy = new Gauge({ name: 'citus_ingest_worker_jobs_active', help: 'Queue jobs this process\'s worker is running right now.', registers });
const workerConcurrency = new Gauge({ name: 'citus_ingest_worker_concurrency', help: 'Queue jobs this process\'s worker runs at once at most (WORKER_CONCURRENCY).', registers });

/** A worker took its slots: `concurrency` jobs at once. */
export function workerStarted(concurrency: number): void {
  workerConcurrency.set(concurrency);
}

/** Counts a queue job as running in this worker until `done` settles; returns `done` unchanged. */
export function trackWorkerJob<T>(done: Promise<T>): Promise<T> {
  return countWhile(workerBusy, done);
}

const readiness = new Gauge({ name: 'citus_ingest_ready_check', help: 'The last /readyz answer of each check (database, redis, objectStorage, source:<scheme>): 1 ok, 0 not.', labelNames: ['check'] as const, registers });

/** Keeps the last readiness check of each dependency. */
export function observeReadiness(checks: Record<string, boolean>): void {
  for (const [check, ok] of Object.entries(checks)) readiness.set({ check }, ok ? 1 : 0);
}

// Watches (routes/events.ts, watches/): what their events did and the jobs they started.
const watchEvents = new Counter({ name: 'citus_ingest_watch_events_total', help: 'Object events a watch received, by outcome: matched (its prefix holds a new object) or ignored.', labelNames: ['watch', 'outcome'] as const, registers });
const watchJobs = new Counter({ name: 'citus_ingest_watch_jobs_started_total', help: 'Jobs a watch started, by what found the object: an event (event:s3, event:gcs, event:azure) or a listing.', labelNames: ['watch', 'found_by'] as const, registers });
const unwatchedEvents = new Counter({ name: 'citus_ingest_events_unwatched_total', help: 'Object events no watch\'s prefix holds (accepted and ignored), by provider.', labelNames: ['provider'] as const, registers });
for (const provider of ['s3', 'gcs', 'azure']) unwatchedEvents.inc({ provider }, 0);

/** Counts an event a watch received. */
export function countWatchEvent(watch: string, outcome: 'matched' | 'ignored'): void {
  watchEvents.inc({ watch, outcome });
}

/** Counts a job a watch started. */
export function countWatchJob(watch: string, foundBy: string): void {
  watchJobs.inc({ watch, found_by: foundBy });
}

/** Counts an event for a prefix no watch holds. */
export function countUnwatchedEvent(provider: string): void {
  unwatchedEvents.inc({ provider });
}

const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
const SCRAPE_TIMEOUT_MS = 2000;

function within<T>(p: Promise<T>, what: string): Promise<T> {
  return withTimeout(p, SCRAPE_TIMEOUT_MS, () => new Error(`${what} did not answer within ${SCRAPE_TIMEOUT_MS} ms`));
}

export interface ScrapeDeps {
  pool: Pool;
  queue: LoadQueue;
  /** Jobs are counted for this queue only (several deployments may share one database). */
  queueName: string;
  log: Logger;
}

/**
 * Gauges read when Prometheus scrapes: jobs by status (PostgreSQL) and the queue's depth (Redis). A
 * dependency that does not answer leaves its gauge empty for that scrape and counts a scrape error,
 * so /metrics itself still answers.
 */
export function scrapeRegistry(deps: ScrapeDeps): Registry {
  const registry = new Registry();
  const scrapeErrors = new Counter({
    name: 'citus_ingest_scrape_errors_total',
    help: 'Scrapes where a dependency (database, redis) did not answer; its gauge was left empty.',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const jobs = new Gauge({
    name: 'citus_ingest_jobs',
    help: 'Jobs in ingest.jobs by status, for this service\'s queue.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const { rows } = await within(
          deps.pool.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM ingest.jobs WHERE queue = $1 GROUP BY status', [deps.queueName]),
          'the database',
        );
        for (const status of JOB_STATUSES) jobs.set({ status }, 0);
        for (const row of rows) jobs.set({ status: row.status }, row.n);
      } catch (err) {
        scrapeErrors.inc({ source: 'database' });
        deps.log.warn({ err }, 'metrics: could not count jobs by status');
      }
    },
  });
  const depth = new Gauge({
    name: 'citus_ingest_queue_jobs',
    help: 'BullMQ jobs in the queue by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const counts = await within(deps.queue.getJobCounts(...QUEUE_STATES), 'Redis');
        for (const state of QUEUE_STATES) depth.set({ state }, counts[state] ?? 0);
      } catch (err) {
        scrapeErrors.inc({ source: 'redis' });
        deps.log.warn({ err }, 'metrics: could not read the queue depth');
      }
    },
  });
  const runningJobs = () =>
    within(
      deps.pool.query<{ id: string; target: string; seconds: number; bytes_total: string | null }>(
        `SELECT j.id, j.target, extract(epoch FROM clock_timestamp() - r.started_at)::float8 AS seconds, j.bytes_total
           FROM ingest.jobs j JOIN ingest.runs r ON r.job_id = j.id AND r.status = 'running'
          WHERE j.queue = $1 AND j.status = 'running'`,
        [deps.queueName],
      ),
      'the database',
    );
  // One series per running job: bounded by the workers' concurrency. Each gauge reads the running jobs
  // itself, since prom-client collects a registry's metrics concurrently.
  const perRunningJob = (name: string, help: string, value: (row: { seconds: number; bytes_total: string | null }) => number): void => {
    const gauge: Gauge<'target' | 'job_id'> = new Gauge({
      name,
      help,
      labelNames: ['target', 'job_id'] as const,
      registers: [registry],
      async collect() {
        gauge.reset();
        try {
          for (const row of (await runningJobs()).rows) gauge.set({ target: row.target, job_id: row.id }, value(row));
        } catch (err) {
          scrapeErrors.inc({ source: 'database' });
          deps.log.warn({ err }, 'metrics: could not read the running jobs');
        }
      },
    });
  };
  perRunningJob('citus_ingest_running_job_seconds', 'Seconds each running job\'s current run has taken so far.', (row) => row.seconds);
  perRunningJob('citus_ingest_running_job_bytes_total', 'Bytes each running job has to read, as far as its listing got.', (row) => Number(row.bytes_total ?? 0));
  const oldestQueued = new Gauge({
    name: 'citus_ingest_oldest_queued_job_seconds',
    help: 'Seconds the longest-waiting queued job has waited since it was queued (or re-queued for a retry); 0 with none queued.',
    registers: [registry],
    async collect() {
      try {
        const { rows } = await within(
          deps.pool.query<{ seconds: number }>(
            `SELECT coalesce(max(extract(epoch FROM clock_timestamp() - updated_at)), 0)::float8 AS seconds FROM ingest.jobs WHERE queue = $1 AND status = 'queued'`,
            [deps.queueName],
          ),
          'the database',
        );
        oldestQueued.set(rows[0]?.seconds ?? 0);
      } catch (err) {
        oldestQueued.reset();
        scrapeErrors.inc({ source: 'database' });
        deps.log.warn({ err }, 'metrics: could not read the queue wait');
      }
    },
  });
  const workers = new Gauge({
    name: 'citus_ingest_queue_workers',
    help: 'BullMQ workers connected to the load queue (from Redis CLIENT LIST).',
    registers: [registry],
    async collect() {
      this.reset();
      try {
        workers.set(await within(deps.queue.getWorkersCount(), 'Redis'));
      } catch (err) {
        scrapeErrors.inc({ source: 'redis' });
        deps.log.warn({ err }, 'metrics: could not count the queue\'s workers');
      }
    },
  });
  return registry;
}

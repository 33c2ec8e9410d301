// What every contender gets and gives back: the context of one timed load into a fresh table, and the
// measurement it reports. The harness (bench/run.ts) checks each load's row count itself afterwards.
import type { DataFile } from '../data.js';
import type { NodeCpu, NodeCpuMeter } from '../nodeCpu.js';
import type { S3Endpoint } from '../s3.js';
import type { Target } from '../target.js';

export interface RunContext {
  /** The repository root (children run from there). */
  root: string;
  target: Target;
  file: DataFile;
  /** The same file in object storage, as s3://bucket/key. */
  sourceUrl: string;
  /** Where sourceUrl lives; undefined when no service contender runs (nothing was uploaded). */
  s3: S3Endpoint | undefined;
  redisUrl: string;
  /** A queue name no other run uses, for the service's BullMQ queue. */
  queueName: string;
  /** The fresh, empty target table, `bench.pp_<contender>_<round>`. */
  table: string;
  /** --profile: the service runs under `--cpu-prof` and writes its profile into this directory. */
  profileDir?: string;
  /**
   * Citus: starts a reading of each node's PostgreSQL CPU (bench/nodeCpu.ts). A contender that calls it
   * measures its own window (the service: POST to answer); otherwise the harness measures around run().
   */
  nodeCpu?: NodeCpuMeter;
}

export interface Measurement {
  /** Wall-clock seconds of the load as this contender defines it (see bench/README.md). */
  seconds: number;
  /** Peak resident set of the contender's own client process in MiB; null where there is none (server-copy). */
  peakRssMb: number | null;
  /** User + system CPU seconds of the contender's client process during the load; null where there is none. */
  clientCpuS?: number | null;
  /** The service's own stage timings of the run that loaded the file (GET /jobs/:id). */
  timings?: Record<string, number>;
  /** Anything else worth keeping in the JSON results. */
  extra?: Record<string, unknown>;
  /** Each Citus node's PostgreSQL CPU over the contender's own window (ctx.nodeCpu). */
  nodeCpu?: NodeCpu[];
  /** --profile: the CPU profile the process wrote, and the load's window in it (monotonic microseconds). */
  profile?: { file: string; fromUs: number; toUs: number };
}

export interface Contender {
  /** Name as printed and charted: server-copy, psql-copy, pgloader, service x1, service x4... */
  name: string;
  /** Why this contender cannot run here (checked once, before round 1); undefined when it can. */
  unavailable?(): Promise<string | undefined>;
  run(ctx: RunContext): Promise<Measurement>;
}

/** Thrown by a contender that cannot run at all (e.g. the API refuses its options): skipped for every round. */
export class SkipContender extends Error {
  override name = 'SkipContender';
}

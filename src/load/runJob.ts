// One attempt at a job: claim it, load its object, record the run, and decide what the failure means
// (retry, fail, or cancel). This is the BullMQ processor's body; it knows nothing of BullMQ itself.
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Pool } from '../db/pool.js';
import { IngestError, asIngestError } from '../errors.js';
import type { Logger } from '../log.js';
import { headObject, parseS3Url } from '../sources/s3.js';
import { finishRun } from '../sql/finishRun.js';
import { getJobRow } from '../sql/getJob.js';
import { recordProgress } from '../sql/recordProgress.js';
import { markCancelled } from '../sql/requestCancel.js';
import { recordRunFile } from '../sql/runFiles.js';
import { startRun } from '../sql/startRun.js';
import { classify, loadFile } from './loadFile.js';
import { shardLayout } from '../target/citus.js';
import { prepareTarget, tableOid } from '../target/prepareTarget.js';
import { StageTimer } from './stageTimer.js';

export interface RunContext {
  pool: Pool;
  s3: S3Client;
  log: Logger;
  workerId: string;
  progressIntervalMs: number;
}

export interface AttemptInfo {
  /** Attempts BullMQ made before this one. */
  attemptsMade: number;
  /** Attempts BullMQ allows in all. */
  attempts: number;
}

export type RunOutcomeKind = 'succeeded' | 'cancelled' | 'not-runnable';

/**
 * Runs one attempt. Resolves when the job is finished for good (succeeded, cancelled, nothing to do);
 * rejects with an IngestError when it failed: `retryable` tells the caller whether to try again.
 */
export async function runJob(ctx: RunContext, jobId: string, attempt: AttemptInfo, controller: AbortController): Promise<RunOutcomeKind> {
  const runId = randomUUID();
  const started = await startRun(ctx.pool, jobId, runId, ctx.workerId);
  if (!started) {
    const row = await getJobRow(ctx.pool, jobId);
    if (row?.cancel_requested) await markCancelled(ctx.pool, jobId);
    ctx.log.info({ jobId, status: row?.status ?? 'missing' }, 'job not runnable; nothing to do');
    return 'not-runnable';
  }
  const { job } = started;
  const spec = job.spec;
  const log = ctx.log.child({ jobId, runId, attempt: started.attempt });
  const timer = new StageTimer();
  timer.add('queueWaitMs', started.queueWaitMs);
  const signal = controller.signal;
  let bytesTotal: number | null = null;
  let progress = { bytesRead: 0, rowsLoaded: 0 };

  const ticker = setInterval(() => {
    recordProgress(ctx.pool, jobId, { ...progress, bytesTotal })
      .then(({ cancelRequested }) => {
        if (cancelRequested && !signal.aborted) {
          controller.abort(new IngestError('CANCELLED', 'cancelled on request; the running COPY was aborted and rolled back'));
        }
      })
      .catch((err) => log.warn({ err }, 'could not record progress'));
  }, ctx.progressIntervalMs);

  let rowsLoaded = 0;
  let bytesRead = 0;
  try {
    const location = parseS3Url(spec.source.url);
    log.info({ url: spec.source.url, target: job.target }, 'run started');
    const object = await timer.time('headMs', () => headObject(ctx.s3, location, signal));
    bytesTotal = object.size;
    const prepared = await timer.time('targetMs', () => prepareTarget(ctx.pool, spec));
    if (prepared.created || prepared.distributed === 'created') log.info({ prepared }, 'target prepared');
    const fileLog = log.child({ key: object.key });
    const result = await loadFile({
      pool: ctx.pool,
      s3: ctx.s3,
      spec,
      target: job.target,
      object,
      jobId,
      runId,
      signal,
      onProgress: (c) => {
        progress = { bytesRead: c.bytes, rowsLoaded: Math.max(0, c.records - (spec.format.header ? 1 : 0)) };
      },
    });
    for (const [stage, ms] of Object.entries(result.timings)) {
      if (stage !== 'totalMs') timer.add(stage as keyof typeof result.timings, ms);
    }
    rowsLoaded = result.rowsLoaded;
    bytesRead = result.bytesRead;
    if (result.status === 'skipped') {
      await recordRunFile(ctx.pool, {
        runId, jobId, bucket: object.bucket, key: object.key, etag: object.etag, size: object.size,
        status: 'skipped', rowsLoaded: 0, bytesRead: 0, loadedByRun: result.loadedBy!.runId, timings: result.timings,
      });
      fileLog.info({ loadedBy: result.loadedBy }, 'object already in the file ledger for this target; skipped');
    } else {
      fileLog.info({ rows: rowsLoaded, bytes: bytesRead, timings: result.timings }, 'object loaded');
    }
    const oid = prepared.oid ?? (await tableOid(ctx.pool, job.target));
    const layout = oid === undefined ? undefined : await timer.time('layoutMs', () => shardLayout(ctx.pool, oid));
    const timings = timer.finish();
    await finishRun(ctx.pool, {
      jobId, runId, runStatus: 'succeeded', jobStatus: 'succeeded', rowsLoaded, bytesRead, bytesTotal, timings,
      ...(layout ? { shardLayout: layout } : {}),
      result: {
        target: { table: job.target, created: prepared.created, distributed: prepared.distributed },
        rowsLoaded,
        bytesRead,
        filesLoaded: result.status === 'loaded' ? 1 : 0,
        filesSkipped: result.status === 'skipped' ? 1 : 0,
        ...(result.loadedBy ? { skipped: [{ url: spec.source.url, ...result.loadedBy }] } : {}),
      },
    });
    log.info({ rows: rowsLoaded, timings }, 'run succeeded');
    return 'succeeded';
  } catch (thrown) {
    const err = signal.aborted ? asIngestError(signal.reason) : classify(thrown, { url: spec.source.url });
    const timings = timer.finish();
    if (err.code === 'CANCELLED') {
      await finishRun(ctx.pool, { jobId, runId, runStatus: 'cancelled', jobStatus: 'cancelled', rowsLoaded: 0, bytesRead: progress.bytesRead, bytesTotal, timings, error: err.toJSON() });
      log.info('run cancelled and rolled back');
      return 'cancelled';
    }
    const willRetry = err.retryable && attempt.attemptsMade + 1 < attempt.attempts;
    await finishRun(ctx.pool, {
      jobId, runId, runStatus: 'failed', jobStatus: willRetry ? 'queued' : 'failed', rowsLoaded: 0,
      bytesRead: progress.bytesRead, bytesTotal, timings, error: err.toJSON(),
    }).catch((e) => log.error({ err: e }, 'could not record the failed run'));
    log.warn({ code: err.code, message: err.message, willRetry }, 'run failed');
    throw err;
  } finally {
    clearInterval(ticker);
  }
}

// One attempt at a job: claim it, list its objects, hand them to the load shape the spec asks for
// (shapes/), record the run, and decide what a failure means (retry, fail, or cancel). This is the
// BullMQ processor's body; it knows nothing of BullMQ itself, nor of any one shape.
import { randomUUID } from 'node:crypto';
import { IngestError, asIngestError } from '../errors.js';
import { getJobRow } from '../sql/getJob.js';
import { recordProgress } from '../sql/recordProgress.js';
import { markCancelled } from '../sql/requestCancel.js';
import { startRun } from '../sql/startRun.js';
import { DEFAULT_RECORD_MAX_BYTES } from '../decode/recordLimit.js';
import { classify } from './classify.js';
import { notInLedger, reloadsAll } from './ledgerSkip.js';
import { recordCancelled, recordFailed, recordSucceeded, type ListingState } from './runOutcome.js';
import { RunObjects } from './runObjects.js';
import type { AttemptInfo, RunContext, RunOutcomeKind } from './runContext.js';
import { dropLeftovers, shapeFor } from './shapes/registry.js';
import type { LoadShape } from './shapes/shape.js';
import type { Listing } from '../sources/listing.js';
import { resolveSources, sourceFor } from '../sources/resolveSources.js';
import { shardLayout } from '../sink/citus.js';
import { chooseEntryNodes } from '../sink/entryNodes.js';
import { recordRunEntryNodes } from '../sql/runEntryNodes.js';
import { prepareTarget, tableOid } from '../sink/prepareTarget.js';
import { StageTimer } from './stageTimer.js';
import { analyzeTable, runTableOperation } from '../ops/runTableOperation.js';

/**
 * Runs one attempt. Resolves when the job is finished for good (succeeded, cancelled, nothing to do);
 * rejects with an IngestError when it failed: `retryable` tells the caller whether to try again.
 */
export async function runJob(ctx: RunContext, jobId: string, attempt: AttemptInfo, controller: AbortController): Promise<RunOutcomeKind> {
  const runId = randomUUID();
  const started = await startRun(ctx.pool, jobId, runId, ctx.workerId);
  if (!started) {
    const row = await getJobRow(ctx.pool, jobId);
    if (row?.cancel_requested) {
      await markCancelled(ctx.pool, jobId);
      if (!row.spec.tableOperation) await dropLeftovers(ctx.pool, row.spec, jobId);
    }
    ctx.log.info({ jobId, status: row?.status ?? 'missing' }, 'job not runnable; nothing to do');
    return 'not-runnable';
  }
  const { job } = started;
  // POST /tables/:name/rebalance and /analyze: the same job model, another body.
  if (job.spec.tableOperation) return runTableOperation({ ...ctx, signal: controller.signal }, started, attempt);
  const { spec } = job;
  const { pool, signal } = { pool: ctx.pool, signal: controller.signal };
  const ids = { jobId, runId, target: job.target };
  const log = ctx.log.child({ jobId, runId, attempt: started.attempt });
  const timer = new StageTimer();
  timer.add('queueWaitMs', started.queueWaitMs);
  let listing: Listing | undefined;
  let shape: LoadShape | undefined;
  let run: RunObjects | undefined;
  const listingState = (): ListingState => ({
    bytesTotal: listing?.complete ? listing.bytes : null,
    listing: listing ? { complete: listing.complete, objects: listing.listed } : null,
  });
  const ticker = setInterval(() => {
    recordProgress(pool, jobId, runId, timer.elapsed(), { ...(run?.progress ?? { bytesRead: 0, rowsLoaded: 0 }), ...listingState() })
      .then(({ cancelRequested }) => {
        if (cancelRequested && !signal.aborted) controller.abort(new IngestError('CANCELLED', 'cancelled on request; the running COPY was aborted and rolled back'));
      })
      .catch((err) => log.warn({ err }, 'could not record progress'));
  }, ctx.progressIntervalMs);
  const endContext = () => ({ pool, log, ids, signal, timings: timer.finish(), listing: listingState() });

  try {
    log.info({ url: spec.source.url, target: job.target }, 'run started');
    const onMarker = (waitedMs: number, manifest?: readonly unknown[]) => {
      timer.add('markerWaitMs', waitedMs);
      log.info({ waitedMs, manifestFiles: manifest?.length }, 'marker found');
    };
    listing = await timer.time('headMs', () => resolveSources(ctx.sources, spec.source, signal, { onMarker }));
    const source = sourceFor(ctx.sources, spec.source.url);
    const prepared = await timer.time('targetMs', () => prepareTarget(pool, spec, ctx.allowedSchemas ?? []));
    if (prepared.created || prepared.distributed === 'created') log.info({ prepared }, 'target prepared');
    const entry = await timer.time('targetMs', () => chooseEntryNodes(ctx.entryNodes, pool, spec, prepared.oid, log, attempt.attemptsMade > 0));
    const recordMaxBytes = ctx.recordMaxBytes ?? DEFAULT_RECORD_MAX_BYTES;
    const loading = await shapeFor(spec)({ pool, log, spec, ids, targetOid: prepared.oid, signal, timer, listing, recordMaxBytes, entry });
    shape = loading;
    run = new RunObjects({ pool, log, ids, signal, timer, source, objectSlots: ctx.objectSlots }, loading);
    const pages = loading.objects.pages();
    const { totals } = run;
    // The sessions the loads kept go back before the publish and the run's end need the pool.
    await run.run(reloadsAll(spec) ? pages : notInLedger(pages, { pool, ids, targetOid: prepared.oid, source, totals, timer, log })).finally(() => loading.release());
    const end = await loading.finish(totals);
    // The planner has no statistics for a new table until it is analyzed: a table this job created is, by default.
    if (end.changedTarget && (spec.afterLoad?.analyze ?? prepared.created)) await timer.time('analyzeMs', () => analyzeTable(pool, job.target));
    const oid = prepared.oid ?? (await tableOid(pool, job.target));
    const layout = oid === undefined || !end.changedTarget ? undefined : await timer.time('layoutMs', () => shardLayout(pool, oid));
    await recordRunEntryNodes(pool, runId, entry.choice);
    clearInterval(ticker);
    await recordSucceeded(endContext(), run, end, { created: prepared.created, distributed: prepared.distributed }, layout);
    return 'succeeded';
  } catch (thrown) {
    clearInterval(ticker);
    await shape?.abort();
    const err = signal.aborted ? asIngestError(signal.reason) : classify(thrown, { url: spec.source.url });
    if (err.code === 'CANCELLED') {
      await recordCancelled(endContext(), run, err);
      return 'cancelled';
    }
    const willRetry = err.retryable && attempt.attemptsMade + 1 < attempt.attempts;
    await recordFailed(endContext(), run, err, willRetry);
    throw err;
  } finally {
    clearInterval(ticker);
    await shape?.close();
    await listing?.close().catch(() => {});
  }
}

// One attempt at a job: claim it, load its object, record the run, and decide what the failure means
// (retry, fail, or cancel). This is the BullMQ processor's body; it knows nothing of BullMQ itself.
import { randomUUID } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import { IngestError, asIngestError } from '../errors.js';
import type { Logger } from '../log.js';
import { specDefaults } from '../jobs/spec.js';
import { finishRun } from '../sql/finishRun.js';
import { getJobRow } from '../sql/getJob.js';
import { recordProgress } from '../sql/recordProgress.js';
import { markCancelled } from '../sql/requestCancel.js';
import { recordRunFile, recordSkippedFiles } from '../sql/runFiles.js';
import { startRun } from '../sql/startRun.js';
import { loadFile, type FileProgress, type FileResult } from './loadFile.js';
import { classify } from './classify.js';
import { skippedResult } from './objectLoad.js';
import { mapPages } from './mapPages.js';
import { recordRunEnd } from './runEnd.js';
import { RunTotals } from './runTotals.js';
import { LoadSessions } from './sessions.js';
import type { Semaphore } from './semaphore.js';
import { loadChunked } from './loadChunked.js';
import { createStage, dropStageFor, publish } from './stagedLoad.js';
import { startMerge, sumMergeCounts, type MergeRun } from './mergeRun.js';
import { ledgerEntries, objectKey } from '../sql/fileLedger.js';
import { Listing } from '../sources/listing.js';
import type { Sources } from '../sources/registry.js';
import type { ObjectInfo } from '../sources/source.js';
import { resolveSources, sourceFor } from '../sources/resolveSources.js';
import { connectionsPerWorker, shardLayout } from '../sink/citus.js';
import { prepareTarget, tableOid } from '../sink/prepareTarget.js';
import { StageTimer } from './stageTimer.js';
import { observeRun } from '../metrics.js';
import { analyzeTable, runTableOperation } from '../ops/runTableOperation.js';
import { chooseEntryNodes, type EntryNodePools } from '../sink/entryNodes.js';
import { recordRunEntryNodes } from '../sql/runEntryNodes.js';

export interface RunContext {
  pool: Pool;
  /** Where bytes come from: one source per configured scheme. */
  sources: Sources;
  log: Logger;
  workerId: string;
  progressIntervalMs: number;
  /** TARGET_ALLOWED_SCHEMAS; empty (the default) means any but the reserved ones. */
  allowedSchemas?: readonly string[];
  /** The worker's global limit on objects loading at once, across its jobs (WORKER_MAX_OBJECTS). */
  objectSlots?: Semaphore;
  /** The worker's pools to every Citus node, for loads that enter at every node (target.entryNodes). */
  entryNodes?: EntryNodePools;
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
  // POST /tables/:name/rebalance and /analyze: the same job model, another body.
  if (job.spec.tableOperation) return runTableOperation({ ...ctx, signal: controller.signal }, started, attempt);
  const spec = job.spec;
  const log = ctx.log.child({ jobId, runId, attempt: started.attempt });
  const timer = new StageTimer();
  timer.add('queueWaitMs', started.queueWaitMs);
  const signal = controller.signal;
  // The run's objects, listed while it loads: totals are known once the listing is complete.
  let listing: Listing | undefined;
  const listingProgress = () => ({
    bytesTotal: listing?.complete ? listing.bytes : null,
    listing: listing ? { complete: listing.complete, objects: listing.listed } : null,
  });
  let progress = { bytesRead: 0, rowsLoaded: 0 };

  const ticker = setInterval(() => {
    recordProgress(ctx.pool, jobId, runId, timer.elapsed(), { ...progress, ...listingProgress() })
      .then(({ cancelRequested }) => {
        if (cancelRequested && !signal.aborted) {
          controller.abort(new IngestError('CANCELLED', 'cancelled on request; the running COPY was aborted and rolled back'));
        }
      })
      .catch((err) => log.warn({ err }, 'could not record progress'));
  }, ctx.progressIntervalMs);

  const files = new Map<string, FileProgress>();
  let committed = { rows: 0, rejected: 0, bytes: 0 };
  let merge: MergeRun | undefined;
  try {
    log.info({ url: spec.source.url, target: job.target }, 'run started');
    listing = await timer.time('headMs', () =>
      resolveSources(ctx.sources, spec.source, signal, {
        onMarker: (waitedMs, manifest) => {
          timer.add('markerWaitMs', waitedMs);
          log.info({ waitedMs, manifestFiles: manifest?.length }, 'marker found');
        },
      }),
    );
    const listed = listing;
    const source = sourceFor(ctx.sources, spec.source.url);
    const prepared = await timer.time('targetMs', () => prepareTarget(ctx.pool, spec, ctx.allowedSchemas ?? []));
    if (prepared.created || prepared.distributed === 'created') log.info({ prepared }, 'target prepared');
    const entry = await timer.time('targetMs', () => chooseEntryNodes(ctx.entryNodes, ctx.pool, spec, prepared.oid, log));
    // mode "merge": one merge into a target at a time, its files in order, each merged in its own transaction.
    // Its order (by name or lastModified) and the check that no file is older than one already merged
    // need every file before the first merges: a merge collects its listing whole.
    if (spec.mode === 'merge') {
      merge = await startMerge(ctx.pool, spec, { jobId, runId, target: job.target }, await timer.time('headMs', () => listed.all()), signal);
      timer.add('mergeWaitMs', merge.waitedMs);
    }
    const objects = merge ? Listing.collected(merge.objects) : listed;
    const loadSpec = merge ? { ...spec, target: { ...spec.target, columns: merge.stage.fileColumns } } : spec;

    // atomicity "job" (and replace, upsert): files load into a table aside and are published at the end.
    const staged = spec.atomicity === 'job';
    const stage = staged ? await timer.time('stageMs', () => createStage(ctx.pool, spec, jobId)) : undefined;
    const reloadAll = spec.reload === true || spec.mode === 'replace';
    const totals = new RunTotals();
    // One query per listed page tells which of its objects the ledger already holds for this target:
    // those are recorded as skipped (one statement a page) and never open a transaction; loadFile still
    // claims each object it loads, so a race stays safe. The next page's query runs while this one loads.
    const toLoad = async function* (pages: AsyncIterable<ObjectInfo[]>): AsyncGenerator<ObjectInfo[]> {
      for await (const page of pages) {
        if (reloadAll) {
          yield page;
          continue;
        }
        const known = await timer.time('ledgerMs', () => ledgerEntries(ctx.pool, job.target, prepared.oid, page));
        const skipped = page.filter((o) => known.has(objectKey(o)));
        if (skipped.length > 0) {
          await recordSkippedFiles(ctx.pool, { runId, jobId }, skipped.map((object) => ({ object, loadedByRun: known.get(objectKey(object))!.runId })));
          for (const object of skipped) totals.add(source.url(object), skippedResult(known.get(objectKey(object))!));
          log.info({ files: skipped.length, first: skipped[0]!.key }, 'objects already in the file ledger for this target; skipped');
        }
        yield skipped.length > 0 ? page.filter((o) => !known.has(objectKey(o))) : page;
      }
    };
    // Many files, one COPY each: they share sessions that keep their Citus worker connections.
    const single = objects.complete && objects.listed === 1;
    // With every node as an entry node, files and chunk lanes take their sessions at the nodes in turn.
    const entered = entry.sessions(job.target, connectionsPerWorker(spec));
    const sessions = entered ?? (!single && spec.atomicity !== 'chunk' ? new LoadSessions(ctx.pool, stage?.name ?? merge?.stage.name ?? job.target, connectionsPerWorker(spec)) : undefined);
    // atomicity "job" writes every loaded file's ledger row in its publish transaction: it keeps their results.
    const toPublish: Array<{ object: ObjectInfo; result: FileResult }> = [];
    await mapPages(toLoad(objects.pages()), merge ? 1 : Math.max(1, spec.concurrency ?? specDefaults.concurrency), signal, async (object) => {
      const fileLog = log.child({ key: object.key });
      await ctx.objectSlots?.acquire(signal);
      try {
        const load = spec.atomicity === 'chunk' ? loadChunked : loadFile;
        const result: FileResult = await load({
          ...(stage ? { stagingTable: stage.name } : {}),
          ...(merge ? { stagingTable: merge.stage.name, merge: merge.mergeFor(object) } : {}),
          ...(sessions ? { sessions } : {}),
          ...(entered && prepared.oid !== undefined ? { targetOid: prepared.oid } : {}),
          pool: ctx.pool, source, spec: loadSpec, target: job.target, object, jobId, runId, signal,
          onProgress: (p) => {
            files.set(object.key, p);
            let bytes = 0;
            let records = 0;
            for (const f of files.values()) {
              bytes += f.bytes;
              records += f.records;
            }
            progress = { bytesRead: totals.bytesRead + bytes, rowsLoaded: committed.rows + records };
          },
        });
        files.delete(object.key);
        if (result.status === 'loaded' && !staged) committed = { rows: committed.rows + result.rowsLoaded, rejected: committed.rejected + result.rowsRejected, bytes: committed.bytes + result.bytesRead };
        totals.add(source.url(object), result);
        if (staged && result.status === 'loaded') toPublish.push({ object, result });
        for (const [name, ms] of Object.entries(result.timings)) {
          if (name !== 'totalMs' && typeof ms === 'number') timer.add(name as keyof typeof result.timings, ms);
        }
        if (result.status === 'skipped') {
          await recordRunFile(ctx.pool, {
            runId, jobId, object,
            status: 'skipped', rowsLoaded: 0, bytesRead: 0, loadedByRun: result.loadedBy!.runId, timings: result.timings,
          });
          fileLog.info({ loadedBy: result.loadedBy }, 'object loaded meanwhile by another job (its ledger row appeared); skipped');
        } else {
          fileLog.info({ rows: result.rowsLoaded, rejected: result.rowsRejected, bytes: result.bytesRead, timings: result.timings }, `object ${result.status}`);
        }
      } catch (err) {
        if (!signal.aborted) {
          const e = classify(err, { url: source.url(object) });
          await recordRunFile(ctx.pool, {
            runId, jobId, object,
            status: 'failed', rowsLoaded: 0, bytesRead: files.get(object.key)?.bytes ?? 0, timings: {}, error: e.toJSON(),
          }).catch(() => {});
        }
        throw err;
      } finally {
        ctx.objectSlots?.release();
      }
    }).finally(() => sessions?.close());

    const published = stage
      ? await timer.time('publishMs', () =>
          publish(ctx.pool, log, spec, stage, toPublish, { jobId, runId, target: job.target }),
        )
      : undefined;
    const dryRun = spec.dryRun;
    const rowsLoaded = dryRun ? 0 : totals.rowsLoaded;
    const { rowsRejected, bytesRead } = totals;
    // The planner has no statistics for a new table until it is analyzed: a table this job created is, by default.
    if (!dryRun && (spec.afterLoad?.analyze ?? prepared.created)) await timer.time('analyzeMs', () => analyzeTable(ctx.pool, job.target));
    const oid = prepared.oid ?? (await tableOid(ctx.pool, job.target));
    const layout = oid === undefined || dryRun ? undefined : await timer.time('layoutMs', () => shardLayout(ctx.pool, oid));
    await recordRunEntryNodes(ctx.pool, runId, entry.choice);
    clearInterval(ticker);
    const timings = timer.finish();
    await recordRunEnd(() => finishRun(ctx.pool, {
      jobId, runId, runStatus: 'succeeded', jobStatus: 'succeeded', rowsLoaded, rowsRejected, bytesRead, ...listingProgress(), timings,
      ...(layout ? { shardLayout: layout } : {}),
      result: {
        target: { table: job.target, created: prepared.created, distributed: prepared.distributed },
        rowsLoaded,
        rowsRejected,
        blankLines: totals.blankLines,
        bytesRead,
        filesLoaded: totals.filesLoaded,
        filesSkipped: totals.filesSkipped,
        ...(dryRun ? { dryRun: { rowsValid: totals.rowsLoaded, rowsRejected, filesValidated: totals.files } } : {}),
        ...(totals.skipped.length ? { skipped: totals.skipped } : {}),
        ...(published ? { published } : {}),
        ...(merge ? { merge: totals.merge ?? sumMergeCounts([]) } : {}),
        rejects: { count: rowsRejected, first: totals.firstRejects },
      },
    }), signal);
    observeRun({ status: 'succeeded', rowsLoaded, rowsRejected, bytesRead, timings });
    log.info({ rows: rowsLoaded, rejected: rowsRejected, timings }, 'run succeeded');
    return 'succeeded';
  } catch (thrown) {
    clearInterval(ticker);
    if (spec.atomicity === 'job') await dropStageFor(ctx.pool, spec, jobId).catch(() => {});
    await merge?.end();
    merge = undefined;
    const err = signal.aborted ? asIngestError(signal.reason) : classify(thrown, { url: spec.source.url });
    const timings = timer.finish();
    if (err.code === 'CANCELLED') {
      await finishRun(ctx.pool, { jobId, runId, runStatus: 'cancelled', jobStatus: 'cancelled', rowsLoaded: committed.rows, bytesRead: progress.bytesRead, ...listingProgress(), timings, error: err.toJSON() });
      observeRun({ status: 'cancelled', rowsLoaded: committed.rows, rowsRejected: committed.rejected, bytesRead: progress.bytesRead, timings });
      log.info('run cancelled and rolled back');
      return 'cancelled';
    }
    const willRetry = err.retryable && attempt.attemptsMade + 1 < attempt.attempts;
    await recordRunEnd(() => finishRun(ctx.pool, {
      jobId, runId, runStatus: 'failed', jobStatus: willRetry ? 'queued' : 'failed', rowsLoaded: committed.rows,
      rowsRejected: committed.rejected, bytesRead: progress.bytesRead, ...listingProgress(), timings, error: err.toJSON(),
      result: { rowsLoaded: committed.rows, note: committed.rows > 0 ? 'files loaded before the failure stay loaded (file atomicity); a retry skips them' : undefined },
    }), signal).catch((e) => log.error({ err: e }, 'could not record the failed run'));
    observeRun({ status: 'failed', rowsLoaded: committed.rows, rowsRejected: committed.rejected, bytesRead: progress.bytesRead, timings });
    log.warn({ code: err.code, message: err.message, willRetry }, 'run failed');
    throw err;
  } finally {
    clearInterval(ticker);
    await merge?.end();
    await listing?.close().catch(() => {});
  }
}

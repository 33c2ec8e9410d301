// Loads one source object in one transaction: resolve the table the COPY writes into, let the unit claim
// the object (load/fileUnit.ts), stream the source -> (gunzip) -> CopyLoader (decoder, COPY), check that
// every record sent was either loaded or rejected, and let the unit end the transaction: commit the rows
// with the run's file record (and whatever the unit adds: the ledger row, a merge), or roll them back.
import type { Pool, PoolClient } from '../db/pool.js';
import type { RecordDecoder } from '../decode/decoder.js';
import { decoderFor } from '../decode/registry.js';
import type { JobSpec } from '../jobs/spec.js';
import { pipeObject, watchConnection, type SourceState } from './loadParts.js';
import { recordRunFile } from '../sql/runFiles.js';
import { createCopyLoader } from '../sink/copyLoader.js';
import { recordProbe } from '../sink/recordProbe.js';
import { batchStage } from '../sink/batchStage.js';
import { copyStatement } from '../sink/copySql.js';
import { beginLoad } from '../sink/citus.js';
import { copyColumns, textEncodingOf } from '../sink/copyColumns.js';
import { resolveTarget } from '../sink/resolveTarget.js';
import type { Sessions } from './sessions.js';
import { StageTimer } from './stageTimer.js';
import { classify } from './classify.js';
import type { FileUnit } from './fileUnit.js';
import { ObjectRejects, reconcile, skippedResult, type FileResult } from './objectLoad.js';
import type { ObjectLoad, RunIds } from './shapes/shape.js';

export type { FileProgress, FileResult } from './objectLoad.js';

export interface LoadFileInput extends ObjectLoad {
  pool: Pool;
  spec: JobSpec;
  ids: RunIds;
  signal: AbortSignal;
  unit: FileUnit;
  /** RECORD_MAX_BYTES: the most one record may take in the decoder. */
  recordMaxBytes: number;
  /** Sessions the job keeps between its files (many-file jobs); without them a pool client per file. */
  sessions: Sessions | undefined;
}

export async function loadFile(input: LoadFileInput): Promise<FileResult> {
  const { spec, object, signal, unit, ids } = input;
  const timer = new StageTimer();
  const url = input.source.url(object);
  // A dry run goes through the batch path: it reports every bad record instead of stopping at the first.
  const batch = spec.maxErrors > 0 || spec.maxErrorRatio !== undefined || spec.dryRun;
  let decoder: RecordDecoder | undefined;
  const rejects = new ObjectRejects({ pool: input.pool, spec, jobId: ids.jobId, runId: ids.runId, object, url, unit: 'file', dryRun: spec.dryRun });
  const source: SourceState = { bytes: 0, error: undefined };

  let client: PoolClient;
  try {
    client = await timer.time('connectMs', () => (input.sessions ? input.sessions.take() : input.pool.connect()));
  } catch (err) {
    throw classify(err, { url });
  }
  let broken = false;
  const connection = watchConnection(client);
  try {
    await beginLoad(client, spec);
    const target = await timer.time('prepareMs', () => resolveTarget(client, unit.table, spec.target.columns));
    const loadedBy = await unit.claim(client, target.oid, timer);
    if (loadedBy) {
      await client.query('ROLLBACK');
      return skippedResult(loadedBy, timer.finish());
    }

    // Declared apart so the catch below sees the decoder, for the line of a failed record.
    const objectDecoder = decoderFor(spec, object, target, { trackRecords: batch, limit: { maxBytes: input.recordMaxBytes, name: object.key } });
    decoder = objectDecoder;
    rejects.decoder = objectDecoder;
    const loader = createCopyLoader({
      client,
      decoder: objectDecoder,
      mode: batch ? 'batch' : 'single',
      textEncoding: textEncodingOf(spec.format.encoding),
      statement: (header) => copyStatement(target, objectDecoder.copyFormat, copyColumns(objectDecoder, spec, target, header)),
      probe: (header) => recordProbe(target.sql, copyColumns(objectDecoder, spec, target, header), objectDecoder.copyFormat),
      stage: (header) => batchStage(target, copyColumns(objectDecoder, spec, target, header), objectDecoder.copyFormat),
      onReject: (reject) => rejects.add(reject),
      onRejects: (list) => rejects.addAll(list),
    });

    const since = timer.elapsed();
    await timer.time('copyMs', () =>
      pipeObject({
        source: input.source, object, decoder: objectDecoder, sink: loader, signal, timer, since, state: source,
        onBytes: (bytes) => input.onProgress({ bytes, records: objectDecoder.stats.records }),
      }),
    );
    // Where the COPY's time went: decoding bytes, handing them to PostgreSQL (and waiting on it), and the
    // rest, which is waiting for the source (and gunzip).
    timer.add('scanMs', loader.scanMs);
    timer.add('copyWaitMs', loader.copyWaitMs);
    timer.add('sourceWaitMs', Math.max(0, (timer.timings.copyMs ?? 0) - loader.scanMs - loader.copyWaitMs));

    await rejects.flushed();
    const stats = objectDecoder.stats;
    reconcile(url, 'the file', { sent: stats.records, loaded: loader.rowsLoaded, rejected: loader.rejected });
    // Records the decoder refused were never sent; they count against the budget like the rest.
    rejects.checkRatio(stats.records + loader.refused);
    const common = { rowsLoaded: loader.rowsLoaded, rowsRejected: rejects.count, blankLines: stats.blankLines, bytesRead: source.bytes, firstRejects: rejects.first };
    const settled = await unit.settle(client, { rows: loader.rowsLoaded, rejected: rejects.count }, timer);
    if (settled.end === 'rollback') {
      await client.query('ROLLBACK');
      return { status: 'validated', ...common, timings: timer.finish() };
    }
    const merge = settled.merge ? { merge: settled.merge } : {};
    await recordRunFile(client, {
      runId: ids.runId, jobId: ids.jobId, object, status: 'loaded', ...common, timings: { ...timer.timings }, ...merge,
    });
    await timer.time('commitMs', () => client.query('COMMIT'));
    return { status: 'loaded', ...common, ...merge, timings: timer.finish() };
  } catch (err) {
    broken = true;
    await client.query('ROLLBACK').catch(() => {});
    await rejects.flushed().catch(() => {});
    if (signal.aborted) throw signal.reason;
    await rejects.recordFailed(err);
    throw classify(connection.first() ?? err, { url, ...(decoder ? { decoder } : {}), sourceError: source.error });
  } finally {
    connection.stop();
    // After a failed COPY the connection is not trusted again: it is closed, not pooled.
    if (input.sessions) input.sessions.give(client, broken);
    else client.release(broken);
  }
}

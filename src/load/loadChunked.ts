// atomicity "chunk": one large object over several parallel COPY streams. One reader streams the object
// and decodes it (decode/decoder.ts), cutting a chunk at the first record end past every chunkBytes of the file,
// so the cuts depend on the content alone and a retry cuts the same way. Each chunk goes to the next
// free stream, which loads it in its own transaction together with its chunk-ledger row. Chunks already
// in the ledger are skipped, so after a crash only the missing ones load. When every chunk is in, the
// object's file-ledger row is written.
import { finished } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../db/pool.js';
import { IngestError } from '../errors.js';
import { trackCopy } from '../metrics.js';
import { specDefaults } from '../jobs/spec.js';
import { inTransaction } from '../db/transaction.js';
import { decoderFor } from '../decode/registry.js';
import { pipeObject, watchConnection, type SourceState } from './loadParts.js';
import { claimChunk, claimLedgerEntry, completeChunk, completeLedgerEntry, ledgerEntry, loadedChunks, type ChunkKey, type LedgerKey } from '../sql/fileLedger.js';
import { recordRunFile } from '../sql/runFiles.js';
import { BatchCopier, type BatchStage } from '../sink/batchCopier.js';
import { batchStage } from '../sink/batchStage.js';
import { refusedRecordError, withCopyReject, type Reject } from '../sink/reject.js';
import { recordProbe, type RecordProbe } from '../sink/recordProbe.js';
import { copyStatement } from '../sink/copySql.js';
import { beginLoad, connectionsPerWorker } from '../sink/citus.js';
import { copyColumns, textEncodingOf } from '../sink/copyColumns.js';
import { resolveTarget } from '../sink/resolveTarget.js';
import { AsyncQueue } from './asyncQueue.js';
import { Chunker, ChunkBuffers, type Chunk } from './chunker.js';
import { LoadSessions, type Sessions } from './sessions.js';
import { classify } from './classify.js';
import { ledgerKeyOf, ObjectRejects, reconcile, skippedResult, type FileResult } from './objectLoad.js';
import type { ObjectLoad, ShapeContext } from './shapes/shape.js';
import { StageTimer } from './stageTimer.js';

export type ChunkedInput = ObjectLoad & Pick<ShapeContext, 'pool' | 'spec' | 'ids' | 'signal' | 'recordMaxBytes'> & {
  /** The lanes' sessions when chunks enter at every node; else a LoadSessions on `pool`. */
  sessions: Sessions | undefined;
};

export async function loadChunked(input: ChunkedInput): Promise<FileResult> {
  const { spec, object, pool } = input;
  const { jobId, runId } = input.ids;
  const timer = new StageTimer();
  const url = input.source.url(object);
  const reload = spec.reload === true;
  const streams = spec.streams ?? specDefaults.streams;
  const batch = spec.maxErrors > 0 || spec.maxErrorRatio !== undefined;
  const textEncoding = textEncodingOf(spec.format.encoding);
  const controller = new AbortController();
  const signal = AbortSignal.any([input.signal, controller.signal]);

  // Resolve the target and look at both ledgers once, outside any load transaction.
  const probe = await timer.time('connectMs', () => pool.connect());
  let target;
  let done;
  let prior;
  let ledgerKey: LedgerKey;
  try {
    target = await timer.time('prepareMs', () => resolveTarget(probe, spec.target.table, spec.target.columns));
    ledgerKey = ledgerKeyOf(input.ids.target, object, target.oid);
    prior = await ledgerEntry(probe, ledgerKey);
    done = await timer.time('ledgerMs', () => loadedChunks(probe, ledgerKey));
  } finally {
    probe.release();
  }
  if (prior && (!reload || prior.jobId === jobId)) {
    return skippedResult(prior, timer.finish());
  }

  const framer = decoderFor(spec, object, target, { trackRecords: batch, cutEvery: spec.chunkBytes ?? specDefaults.chunkBytes, limit: { maxBytes: input.recordMaxBytes, name: object.key } });
  let sql: string | undefined;
  let columns: string[] | undefined;
  const columnsOfFile = (): string[] => (columns ??= copyColumns(framer, spec, target, framer.headerBytes));
  const statement = (): string => (sql ??= copyStatement(target, framer.copyFormat, columnsOfFile()));
  let probeRoute: RecordProbe | undefined;
  const recordRoute = (): RecordProbe => (probeRoute ??= recordProbe(target.sql, columnsOfFile(), framer.copyFormat));
  let stageRoute: BatchStage | undefined;
  const stagedRoute = (): BatchStage => (stageRoute ??= batchStage(target, columnsOfFile(), framer.copyFormat));
  const rejects = new ObjectRejects({ pool, spec, jobId: jobId, runId: runId, object, url, unit: 'chunk', dryRun: false });
  rejects.decoder = framer;
  let loadedRows = 0; // committed by this run
  let skippedRows = 0; // already in the chunk ledger
  let inFlight = 0;
  const source: SourceState = { bytes: 0, error: undefined };
  let chunksLoaded = 0;
  let chunksSkipped = 0;
  const onReject = (reject: Reject): Promise<void> => rejects.add(reject);
  // Records the decoder refused: a bad record like any other (without a budget, the first fails the load).
  let refused = 0;
  const refuse = async (list: Reject[]): Promise<void> => {
    for (const reject of list) {
      if (!batch) throw refusedRecordError(reject);
      refused++;
      await rejects.add(reject);
    }
  };

  // A chunk the ledger holds (an earlier attempt's, or a twin job's that claimed it first): its rows count
  // as skipped and the records of it that are not rows were rejected when it loaded.
  const skip = (chunk: Chunk, rowsLoaded: number): void => {
    skippedRows += rowsLoaded;
    chunksSkipped++;
    rejects.countEarlier(chunk.records - rowsLoaded);
  };
  const loadChunk = async (client: PoolClient, chunk: Chunk): Promise<void> => {
    const key: ChunkKey = { ...ledgerKey, byteStart: chunk.byteStart, byteEnd: chunk.byteEnd };
    const earlier = done.get(chunk.byteStart);
    if (earlier && (!reload || earlier.jobId === jobId)) {
      if (earlier.byteEnd !== chunk.byteEnd) {
        throw new IngestError('RECORD_COUNT_MISMATCH', `${url}: chunk at byte ${chunk.byteStart} ends at ${chunk.byteEnd} now but at ${earlier.byteEnd} in the ledger; was chunkBytes changed between attempts?`, { url });
      }
      skip(chunk, earlier.rowsLoaded);
      return;
    }
    await beginLoad(client, spec);
    const claimed = await claimChunk(client, key, jobId, runId, reload).catch(async (err: unknown) => {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    });
    if (!claimed) {
      await client.query('ROLLBACK');
      // The claim waited for the twin's transaction, which committed the chunk: its row is there now.
      const twin = (await loadedChunks(client, ledgerKey)).get(chunk.byteStart);
      skip(chunk, twin?.rowsLoaded ?? 0);
      return;
    }
    try {
      inFlight += chunk.records;
      let rows: number;
      let chunkRejected = 0;
      if (batch) {
        const copier = new BatchCopier({ client, statement, onReject, onRejects: (list) => rejects.addAll(list), textEncoding, probe: recordRoute, stage: stagedRoute });
        await copier.load(chunk.data, chunk.base, chunk.meta);
        rows = copier.rowsLoaded;
        chunkRejected = copier.rejected;
      } else {
        const copy = client.query(copyStreams.from(statement()));
        copy.end(chunk.data);
        await trackCopy(finished(copy)).catch((err: unknown) => {
          throw withCopyReject(err, (copyLine) => framer.originalLineFrom(chunk.firstLine, copyLine));
        });
        rows = copy.rowCount ?? 0;
      }
      reconcile(url, `the chunk at byte ${chunk.byteStart}`, { sent: chunk.records, loaded: rows, rejected: chunkRejected });
      await completeChunk(client, key, rows);
      await client.query('COMMIT');
      inFlight -= chunk.records;
      loadedRows += rows;
      chunksLoaded++;
    } catch (err) {
      inFlight -= chunk.records;
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  };

  // One chunk waits while `streams` load: memory stays near (streams + 2) x chunkBytes.
  const queue = new AsyncQueue<Chunk>(1);
  const buffers = new ChunkBuffers((spec.chunkBytes ?? specDefaults.chunkBytes) + (1 << 20));
  let failure: unknown;
  // Every chunk is a COPY of its own: on Citus each lane's session keeps its worker connections between them.
  const sessions = input.sessions ?? new LoadSessions(pool, target.sql, connectionsPerWorker(spec));
  let working = 0;
  const lanes = Array.from({ length: streams }, async () => {
    let client: PoolClient | undefined;
    let broken = false;
    let connection: ReturnType<typeof watchConnection> | undefined;
    try {
      try {
        client = await sessions.take();
      } catch (err) {
        // More streams than the worker's pool gives out in time: while other lanes load, this one is
        // simply not there. With no lane loading it is a failure like any other.
        if (working > 0) return;
        throw err;
      }
      working++;
      connection = watchConnection(client);
      for (;;) {
        const chunk = await queue.take();
        if (!chunk || signal.aborted) return;
        await loadChunk(client, chunk);
        // Every byte of it was sent (COPY ended) or it was skipped: its buffer may hold the next chunk.
        // After a failure the buffer is left to the collector: a broken COPY may still reference it.
        buffers.give(chunk.buffer);
        input.onProgress({ bytes: source.bytes, records: loadedRows + skippedRows });
      }
    } catch (err) {
      broken = true;
      failure ??= connection?.first() ?? err;
      queue.fail(failure);
      controller.abort(failure);
    } finally {
      connection?.stop();
      if (client) {
        working--;
        sessions.give(client, broken);
      }
    }
  });

  const t0 = timer.elapsed();
  try {
    await pipeObject({
      source: input.source, object, decoder: framer, sink: new Chunker(framer, queue, buffers, refuse), signal, timer, since: t0, state: source,
      onBytes: (bytes) => input.onProgress({ bytes, records: loadedRows + skippedRows + inFlight }),
    }).finally(() => queue.close());
  } catch (err) {
    failure ??= err;
    queue.fail(err);
  }
  await Promise.all(lanes);
  await rejects.flushed().catch((err: unknown) => {
    failure ??= err;
  });
  await sessions.close();
  timer.add('copyMs', timer.elapsed() - t0);
  if (failure !== undefined) {
    if (input.signal.aborted) throw input.signal.reason;
    await rejects.recordFailed(failure);
    throw classify(failure, { url, decoder: framer, sourceError: source.error });
  }

  const stats = framer.stats;
  const total = loadedRows + skippedRows;
  reconcile(url, 'the file', { sent: stats.records, loaded: total, rejected: rejects.count - refused });
  rejects.checkRatio(stats.records + refused);
  // Every chunk is in: the object as a whole goes into the file ledger.
  try {
    const t0 = timer.elapsed();
    await inTransaction(pool, async (client) => {
      await claimLedgerEntry(client, ledgerKey, jobId, runId, reload);
      await completeLedgerEntry(client, ledgerKey, total);
      await recordRunFile(client, {
        runId: runId, jobId: jobId, object,
        status: 'loaded', rowsLoaded: loadedRows, rowsRejected: rejects.count, blankLines: stats.blankLines, bytesRead: source.bytes,
        timings: { ...timer.timings, chunksLoaded, chunksSkipped } as FileResult['timings'],
      });
    });
    timer.add('commitMs', timer.elapsed() - t0);
  } catch (err) {
    throw classify(err, { url });
  }
  return {
    status: 'loaded', rowsLoaded: loadedRows, rowsRejected: rejects.count, blankLines: stats.blankLines, bytesRead: source.bytes, firstRejects: rejects.first,
    timings: timer.finish(), chunks: { loaded: chunksLoaded, skipped: chunksSkipped, rowsSkipped: skippedRows },
  };
}

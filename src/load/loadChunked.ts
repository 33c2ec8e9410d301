// atomicity "chunk": one large object over several parallel COPY streams. One reader streams the object
// and decodes it (decode/decoder.ts), cutting a chunk at the first record end past every chunkBytes of the file,
// so the cuts depend on the content alone and a retry cuts the same way. Each chunk goes to the next
// free stream, which loads it in its own transaction together with its chunk-ledger row. Chunks already
// in the ledger are skipped, so after a crash only the missing ones load. When every chunk is in, the
// object's file-ledger row is written.
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../db/pool.js';
import { hasSqlState, isDataError } from '../db/sqlstate.js';
import { IngestError } from '../errors.js';
import { trackCopy } from '../metrics.js';
import { specDefaults } from '../jobs/spec.js';
import { inTransaction } from '../db/transaction.js';
import { doneWithInput, laterOutput, takeRefused, type RecordDecoder, type RecordPositions } from '../decode/decoder.js';
import { decoderFor } from '../decode/registry.js';
import { pipeObject, watchConnection, type SourceState } from './loadParts.js';
import { claimChunk, claimLedgerEntry, completeChunk, completeLedgerEntry, ledgerEntry, loadedChunks, type ChunkKey, type LedgerKey } from '../sql/fileLedger.js';
import { recordRunFile } from '../sql/runFiles.js';
import { BatchCopier, type BatchStage } from '../sink/batchCopier.js';
import { batchStage } from '../sink/batchStage.js';
import type { Reject } from '../sink/copyLoader.js';
import { recordProbe, type RecordProbe } from '../sink/recordProbe.js';
import { copyErrorPosition, copyStatement } from '../sink/copySql.js';
import { beginLoad, connectionsPerWorker } from '../sink/citus.js';
import { columnsFromHeader } from '../sink/headerColumns.js';
import { resolveTarget } from '../sink/resolveTarget.js';
import { AsyncQueue } from './asyncQueue.js';
import { LoadSessions } from './sessions.js';
import { textEncodingOf, type FileResult, type LoadFileInput } from './loadFile.js';
import { classify } from './classify.js';
import { ledgerKeyOf, ObjectRejects, reconcile, skippedResult } from './objectLoad.js';
import { StageTimer } from './stageTimer.js';

interface Chunk {
  byteStart: number;
  byteEnd: number;
  firstLine: number;
  /** Output offset of data[0]. */
  base: number;
  data: Buffer;
  records: number;
  meta: RecordPositions;
  /** The pooled buffer `data` lies in: back to the pool once the chunk is loaded. */
  buffer: Buffer;
}

/**
 * The buffers chunks are built in, reused from chunk to chunk. A new buffer per chunk (8 MiB) lived as
 * long as its COPY, outlived young-generation collections, and the dead ones held the process's memory
 * up until a full collection: 234-244 MiB with 2 or 4 streams. At most streams + 2 exist at once.
 */
class ChunkBuffers {
  private readonly free: Buffer[] = [];

  constructor(private readonly size: number) {}

  take(atLeast: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= atLeast);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    return Buffer.allocUnsafeSlow(Math.max(atLeast, this.size));
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
  }
}

const NO_BYTES = Buffer.alloc(0);

/** Copies the decoder's output into pooled buffers and hands out a Chunk at every cut. */
class Chunker extends Writable {
  private current: Buffer;
  private pendingBytes = 0;
  private startOut = 0;
  private startOffset = 0;
  private startLine = 1;
  private startRecords = 0;

  constructor(
    private readonly framer: RecordDecoder,
    private readonly queue: AsyncQueue<Chunk>,
    private readonly buffers: ChunkBuffers,
    /** Takes the records the decoder refused (never sent to COPY); throws to stop the load. */
    private readonly onRefused: (refused: Reject[]) => Promise<void>,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.current = NO_BYTES;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const out: Buffer[] = [];
    this.framer.push(chunk, out);
    // take() copies the output into the chunk's buffer first: then the chunk is done with.
    this.onRefused(takeRefused(this.framer)).then(() => this.take(out, false)).then(() => {
      doneWithInput(this.framer, chunk);
      done();
    }, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    const out: Buffer[] = [];
    this.framer.end(out);
    this.onRefused(takeRefused(this.framer)).then(() => this.take(out, true)).then(() => done(), done);
  }

  private async take(out: Buffer[], final: boolean): Promise<void> {
    for (const b of out) this.keep(b);
    await this.cutsSoFar();
    // Output the decoder holds back (Parquet's row groups, a slice at a time): cut as it comes.
    for (const piece of laterOutput(this.framer, { ms: 0 })) {
      this.keep(piece);
      await this.cutsSoFar();
    }
    if (final) {
      const s = this.framer.stats;
      await this.cutAt(this.startOut + this.pendingBytes, s.bytesIn, s.lines + 1, s.records);
    }
  }

  private async cutsSoFar(): Promise<void> {
    for (const cut of this.framer.cuts.splice(0)) await this.cutAt(cut.out, cut.offset, cut.line, cut.records);
  }

  /** Appends framer output to the chunk being built (moved to a larger buffer when it outgrows this one). */
  private keep(piece: Buffer): void {
    const end = this.pendingBytes + piece.length;
    if (end > this.current.length) {
      const larger = this.buffers.take(end);
      this.current.copy(larger, 0, 0, this.pendingBytes);
      if (this.current !== NO_BYTES) this.buffers.give(this.current);
      this.current = larger;
    }
    piece.copy(this.current, this.pendingBytes);
    this.pendingBytes = end;
  }

  private async cutAt(out: number, offset: number, line: number, records: number): Promise<void> {
    const size = out - this.startOut;
    const buffer = this.current;
    const data = buffer.subarray(0, size);
    // What follows the cut starts the next chunk, in a buffer of its own.
    const restBytes = this.pendingBytes - size;
    this.current = restBytes > 0 ? this.buffers.take(restBytes) : NO_BYTES;
    buffer.copy(this.current, 0, size, this.pendingBytes);
    this.pendingBytes = restBytes;
    const recs = this.framer.records;
    let k = 0;
    while (k < recs.length && recs.end(k) <= out) k++;
    const meta = recs.shift(k);
    const chunk: Chunk = { byteStart: this.startOffset, byteEnd: offset, firstLine: this.startLine, base: this.startOut, data, records: records - this.startRecords, meta, buffer };
    this.startOut = out;
    this.startOffset = offset;
    this.startLine = line;
    this.startRecords = records;
    if (chunk.records > 0) await this.queue.put(chunk);
    else if (buffer !== NO_BYTES) this.buffers.give(buffer);
  }
}

export async function loadChunked(input: LoadFileInput): Promise<FileResult> {
  const { spec, object, pool } = input;
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
    ledgerKey = ledgerKeyOf(input.target, object, target.oid);
    prior = await ledgerEntry(probe, ledgerKey);
    done = await timer.time('ledgerMs', () => loadedChunks(probe, ledgerKey));
  } finally {
    probe.release();
  }
  if (prior && (!reload || prior.jobId === input.jobId)) {
    return skippedResult(prior, timer.finish());
  }

  const framer = decoderFor(spec, object, target, { trackRecords: batch, cutEvery: spec.chunkBytes ?? specDefaults.chunkBytes });
  let sql: string | undefined;
  let columns: string[] | undefined;
  const columnsOfFile = (): string[] =>
    (columns ??= framer.copyColumns?.() ?? (spec.target.columns === 'header' ? columnsFromHeader(framer.headerBytes, spec.format, target.tableColumns, spec.target.table, textEncoding) : target.columns));
  const statement = (): string => (sql ??= copyStatement(target, framer.copyFormat, columnsOfFile()));
  let probeRoute: RecordProbe | undefined;
  const recordRoute = (): RecordProbe => (probeRoute ??= recordProbe(target.sql, columnsOfFile(), framer.copyFormat));
  let stageRoute: BatchStage | undefined;
  const stagedRoute = (): BatchStage => (stageRoute ??= batchStage(target, columnsOfFile(), framer.copyFormat));
  const rejects = new ObjectRejects({ pool, spec, jobId: input.jobId, runId: input.runId, object, url, unit: 'chunk', dryRun: false });
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
      if (!batch) throw Object.assign(new Error(reject.message), { code: reject.sqlstate, reject });
      refused++;
      await rejects.add(reject);
    }
  };

  const loadChunk = async (client: PoolClient, chunk: Chunk): Promise<void> => {
    const key: ChunkKey = { ...ledgerKey, byteStart: chunk.byteStart, byteEnd: chunk.byteEnd };
    const earlier = done.get(chunk.byteStart);
    if (earlier && (!reload || earlier.jobId === input.jobId)) {
      if (earlier.byteEnd !== chunk.byteEnd) {
        throw new IngestError('RECORD_COUNT_MISMATCH', `${url}: chunk at byte ${chunk.byteStart} ends at ${chunk.byteEnd} now but at ${earlier.byteEnd} in the ledger; was chunkBytes changed between attempts?`, { url });
      }
      skippedRows += earlier.rowsLoaded;
      chunksSkipped++;
      return;
    }
    await beginLoad(client, spec);
    try {
      if (!(await claimChunk(client, key, input.jobId, input.runId, reload))) {
        await client.query('ROLLBACK');
        chunksSkipped++;
        return;
      }
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
        try {
          await trackCopy(finished(copy));
        } catch (err) {
          if (hasSqlState(err) && isDataError(err)) {
            const pos = copyErrorPosition(err as { where?: string });
            const line = pos.record !== undefined ? framer.originalLineFrom(chunk.firstLine, pos.record) : null;
            const reject: Reject = { line, byteOffset: null, column: pos.column ?? null, sqlstate: err.code, message: err.message ?? '', record: '' };
            throw Object.assign(err as object, { reject });
          }
          throw err;
        }
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
      await claimLedgerEntry(client, ledgerKey, input.jobId, input.runId, reload);
      await completeLedgerEntry(client, ledgerKey, total);
      await recordRunFile(client, {
        runId: input.runId, jobId: input.jobId, object,
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

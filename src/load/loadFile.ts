// Loads one source object into the target in one transaction: resolve the target, claim the object in
// the file ledger, stream the source -> (gunzip) -> CopyLoader (decoder, COPY), check that every record
// sent was either loaded or rejected, and commit the rows, the ledger entry and the run's file record
// together. A dry run does all of it and rolls back.
import type { Pool, PoolClient } from '../db/pool.js';
import type { RecordDecoder } from '../decode/decoder.js';
import { decoderFor } from '../decode/registry.js';
import type { JobSpec } from '../jobs/spec.js';
import { pipeObject, watchConnection, type SourceState } from './loadParts.js';
import type { ObjectInfo, ObjectSource } from '../sources/source.js';
import { claimLedgerEntry, completeLedgerEntry, type LedgerKey } from '../sql/fileLedger.js';
import type { MergeCounts, Timings } from '../sql/jobRows.js';
import { recordRunFile } from '../sql/runFiles.js';
import { CopyLoader, type Reject } from '../sink/copyLoader.js';
import { recordProbe } from '../sink/recordProbe.js';
import { batchStage } from '../sink/batchStage.js';
import { copyStatement } from '../sink/copySql.js';
import { beginLoad } from '../sink/citus.js';
import { columnsFromHeader } from '../sink/headerColumns.js';
import { resolveTarget } from '../sink/resolveTarget.js';
import { tableOid } from '../sink/prepareTarget.js';
import type { Sessions } from './sessions.js';
import { StageTimer } from './stageTimer.js';
import { classify } from './classify.js';
import { ledgerKeyOf, ObjectRejects, reconcile, skippedResult, type FileProgress, type FileResult } from './objectLoad.js';

export type { FileProgress, FileResult } from './objectLoad.js';

export interface LoadFileInput {
  pool: Pool;
  /** Where the object's bytes come from. */
  source: ObjectSource;
  spec: JobSpec;
  /** The job's target as stored ("schema"."table"), the ledger's target key. */
  target: string;
  object: ObjectInfo;
  jobId: string;
  runId: string;
  signal: AbortSignal;
  onProgress: (p: FileProgress) => void;
  /** Load into this table instead of the spec's (a staging table); the ledger is then the caller's. */
  stagingTable?: string;
  /** Sessions the job keeps between its files (many-file jobs); without them a pool client per file. */
  sessions?: Sessions;
  /** The target's OID on the coordinator, the ledger's identity for it, when the load enters at another node. */
  targetOid?: number;
  /**
   * mode "merge": after the COPY into `stagingTable`, merges it into the target on this transaction,
   * before the ledger row and the commit (the ledger is then this function's, as without a stage).
   */
  merge?: (client: PoolClient, rejected: number) => Promise<MergeCounts>;
}

/** Node's name for the text of a file in a PostgreSQL encoding, for reporting raw records. */
export function textEncodingOf(pgEncoding: string): BufferEncoding {
  return /^(LATIN1|ISO[-_]?8859[-_]?1|WIN1252|SQL_ASCII)$/i.test(pgEncoding) ? 'latin1' : 'utf8';
}

export async function loadFile(input: LoadFileInput): Promise<FileResult> {
  const { spec, object, signal } = input;
  const timer = new StageTimer();
  const url = input.source.url(object);
  const batch = spec.maxErrors > 0 || spec.maxErrorRatio !== undefined || spec.dryRun;
  const textEncoding = textEncodingOf(spec.format.encoding);
  let decoder: RecordDecoder | undefined;
  const rejects = new ObjectRejects({ pool: input.pool, spec, jobId: input.jobId, runId: input.runId, object, url, unit: 'file', dryRun: spec.dryRun });
  const source: SourceState = { bytes: 0, error: undefined };

  let client: PoolClient;
  try {
    client = await timer.time('connectMs', () => (input.sessions ? input.sessions.take() : input.pool.connect()));
  } catch (err) {
    throw classify(err, { url });
  }
  let broken = false;
  let ledgerKey: LedgerKey | undefined;
  const connection = watchConnection(client);
  try {
    await beginLoad(client, spec);
    const useLedger = !spec.dryRun && (input.stagingTable === undefined || input.merge !== undefined);
    const target = await timer.time('prepareMs', () => resolveTarget(client, input.stagingTable ?? spec.target.table, spec.target.columns));
    // The ledger entry's identity is the real table's OID: `target` itself, or, when a merge loads
    // through a stage, the table the stage merges into.
    const targetOid = input.stagingTable === undefined ? (input.targetOid ?? target.oid) : ((await tableOid(client, input.target)) ?? target.oid);
    ledgerKey = ledgerKeyOf(input.target, object, targetOid);
    if (useLedger) {
      const existing = await timer.time('ledgerMs', () => claimLedgerEntry(client, ledgerKey!, input.jobId, input.runId, spec.reload === true));
      if (existing) {
        await client.query('ROLLBACK');
        return skippedResult({ runId: existing.runId, jobId: existing.jobId, loadedAt: existing.loadedAt, rowsLoaded: existing.rowsLoaded }, timer.finish());
      }
    }

    // Declared apart so the catch below sees the decoder, for the line of a failed record.
    const objectDecoder = decoderFor(spec, object, target, { trackRecords: batch });
    decoder = objectDecoder;
    rejects.decoder = objectDecoder;
    const columnsFor = (header: Buffer | undefined): string[] =>
      objectDecoder.copyColumns?.() ?? (spec.target.columns === 'header' ? columnsFromHeader(header, spec.format, target.tableColumns, spec.target.table, textEncoding) : target.columns);
    const loader = new CopyLoader({
      client,
      decoder: objectDecoder,
      mode: batch ? 'batch' : 'single',
      textEncoding,
      statement: (header) => copyStatement(target, objectDecoder.copyFormat, columnsFor(header)),
      probe: (header) => recordProbe(target.sql, columnsFor(header), objectDecoder.copyFormat),
      stage: (header) => batchStage(target, columnsFor(header), objectDecoder.copyFormat),
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
    const records = stats.records + loader.refused;
    rejects.checkRatio(records);
    const common = { rowsRejected: rejects.count, blankLines: stats.blankLines, bytesRead: source.bytes, firstRejects: rejects.first };
    if (spec.dryRun) {
      await client.query('ROLLBACK');
      return { status: 'validated', rowsLoaded: loader.rowsLoaded, ...common, timings: timer.finish() };
    }
    const merged = input.merge ? await timer.time('mergeMs', () => input.merge!(client, rejects.count)) : undefined;
    if (useLedger) await completeLedgerEntry(client, ledgerKey, loader.rowsLoaded);
    await recordRunFile(client, {
      runId: input.runId, jobId: input.jobId, object,
      status: 'loaded', rowsLoaded: loader.rowsLoaded, rowsRejected: rejects.count, blankLines: stats.blankLines, bytesRead: source.bytes,
      timings: { ...timer.timings }, ...(merged ? { merge: merged } : {}),
    });
    await timer.time('commitMs', () => client.query('COMMIT'));
    return { status: 'loaded', rowsLoaded: loader.rowsLoaded, ...common, ...(merged ? { merge: merged } : {}), timings: timer.finish() };
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

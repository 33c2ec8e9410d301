// The staged route for a batch whose COPY failed: instead of finding its bad records one COPY into the
// target at a time (BatchCopier), the batch goes by one COPY into a temporary stage table on this
// session, shaped like the file's columns of the target (types, NOT NULL) with each record's index in
// the batch. Type and NOT NULL errors there name their COPY line, and are cheap to isolate on a local
// table. The records the target would refuse for a CHECK, a unique key (against the table and, first
// in file order wins, within the batch) or a foreign key are then found by one query per rule, and the
// rest goes in by one COPY into the target from the batch's bytes in memory, the refused records left
// out (the stage's rows are never moved: an INSERT ... SELECT from it cost up to twice that COPY on
// Citus).
//
// It is an accelerator, not the ground truth: a table with rules it does not model is not staged
// (targetConstraints.ts), and when that COPY is refused anyway (a rule it missed, a concurrent
// writer), the stage's savepoint is rolled back and the batch goes to BatchCopier as before.
import type { PoolClient } from '../db/pool.js';
import { isDataError } from '../db/sqlstate.js';
import type { FormatSpec } from '../jobs/spec.js';
import { countStagedBatch } from '../metrics.js';
import { BatchCopier, type BatchStage, type StagedBatch } from './batchCopier.js';
import { recordBytes, recordReject } from './batchRecords.js';
import { copyPieces } from './copyPieces.js';
import { copyInto } from './copySql.js';
import type { Reject } from './reject.js';
import * as sql from './stageSql.js';
import { targetConstraints, type TargetConstraints } from './targetConstraints.js';

const SAVEPOINT = 'citus_ingest_stage';
const COPY_SAVEPOINT = 'citus_ingest_stage_copy';

/** What the stage learnt from the file's batches so far. */
interface StageMemory {
  /** The last batch had keys already in the table: the next looks them up before its COPY. */
  tableConflicts: boolean;
}

interface Rule {
  sqlstate: string;
  message: string;
}

export function batchStage(target: { oid: number; sql: string }, columns: string[], format: FormatSpec): BatchStage {
  const tables = sql.stageTables(target.oid);
  let rules: TargetConstraints | undefined;
  /** Set once the stage failed for a reason no batch will escape: later batches skip it. */
  let off = false;
  const memory: StageMemory = { tableConflicts: false };
  return {
    async load(batch) {
      if (off || rules?.covered === false) return undefined;
      const { client } = batch;
      await client.query(`SAVEPOINT ${SAVEPOINT}`);
      try {
        // The catalog of the node this session entered at: OIDs differ from node to node (entryNodes.ts).
        rules ??= await targetConstraints(client, await sessionOid(client, target), columns);
        const found = rules;
        if (!found.covered) {
          await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
          return undefined;
        }
        await client.query(sql.createStage(tables, found.columns));
        const done = await stageAndCopy(batch, found, target.sql, tables, copyInto(tables.stage, columns, format), memory);
        if (done) {
          await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
          countStagedBatch('loaded');
          // The caller reports the rejects once the rows are in: a batch that falls back reports none twice.
          return done;
        }
      } catch (err) {
        // A statement the stage sent failed: the batch goes the slow way. A connection that is gone
        // fails this rollback too, and that error is the load's.
        await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`);
        if (!isDataError(err)) off = true;
        countStagedBatch('fell_back');
        return undefined;
      }
      await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`);
      countStagedBatch('fell_back');
      return undefined;
    },
  };
}

/**
 * Stages the batch, marks the records the target refuses, and copies the rest into the target. Returns undefined when
 * the rules cannot tell which records to refuse (keys repeated under two unique rules at once).
 */
async function stageAndCopy(
  batch: StagedBatch,
  rules: Extract<TargetConstraints, { covered: true }>,
  targetSql: string,
  tables: sql.StageTables,
  copySql: string,
  memory: StageMemory,
): Promise<{ loaded: number; rejects: [number, Reject][] } | undefined> {
  const { client, data, base, recs, textEncoding } = batch;
  await client.query(`TRUNCATE ${tables.stage}, ${tables.refused}`);
  // Records the stage's own COPY refuses (types, NOT NULL), kept until the batch is in.
  const rejects: [number, Reject][] = [];
  const copier = new BatchCopier({
    client,
    statement: () => copySql,
    textEncoding,
    into: 'stage',
    onReject: async (reject, r) => {
      rejects.push([r, reject]);
    },
    // Record r gets index r, whichever span of the batch it is copied in.
    beforeCopy: async (first) => {
      await client.query(sql.nextIndex(tables), [first]);
    },
  });
  await copier.load(data, base, recs);

  // Reasons in the order PostgreSQL checks a row: CHECK constraints by name, unique indexes by OID,
  // then foreign keys; a record that breaks several is reported for the first.
  const reasons: Rule[] = [];
  const steps: string[] = [];
  const conflicts: string[] = [];
  const repeats: string[] = [];
  for (const c of rules.checks) {
    steps.push(sql.checkViolations(tables, c, reasons.length));
    reasons.push({ sqlstate: '23514', message: `new row for relation "${rules.table}" violates check constraint "${c.name}"` });
  }
  for (const u of rules.uniques) {
    conflicts.push(sql.keyConflicts(tables, targetSql, u, reasons.length));
    repeats.push(sql.keyRepeats(tables, u, reasons.length));
    reasons.push({ sqlstate: '23505', message: `duplicate key value violates unique constraint "${u.name}"` });
  }
  for (const f of rules.foreignKeys) {
    steps.push(sql.missingReferences(tables, f, reasons.length));
    reasons.push({ sqlstate: '23503', message: `insert or update on table "${rules.table}" violates foreign key constraint "${f.name}"` });
  }
  // Keys already in the table are looked up by a join that, on Citus, sends the batch's keys to every
  // shard: about as dear as the COPY. Under one unique rule, a batch whose keys are new (the last one's
  // were) skips it: the COPY goes first, and only when it fails is it undone and the join run. A key
  // repeated within the batch is the same key in the table, so the order they are found in does not
  // matter; under two rules it does, and the join goes first.
  const copyFirst = rules.uniques.length === 1 && !memory.tableConflicts;
  for (const step of steps) await client.query(step);
  let conflicted = 0;
  if (!copyFirst) for (const step of conflicts) conflicted += (await client.query(step)).rowCount ?? 0;
  for (const step of repeats) await client.query(step);
  // Under one unique rule, the first of a repeated key is kept. Under two at once, which records keep
  // their keys depends on the order they are refused in: left to BatchCopier.
  if (repeats.length > 1 && (await client.query<{ n: number }>(sql.repeatedRules(tables))).rows[0]!.n > 1) return undefined;

  const staged = copier.rowsLoaded;
  let refused = await client.query<{ ord: number; reason: number }>(sql.refusedRecords(tables));
  // The rest goes in by the load's own COPY, from the batch's bytes, skipping the refused records.
  await client.query(`SAVEPOINT ${COPY_SAVEPOINT}`);
  let failure = await copyAccepted(batch, skipped(refused.rows, rejects));
  if (failure !== undefined && copyFirst) {
    // Keys already in the table: found by the join, and the COPY sent again without them.
    await client.query(`ROLLBACK TO SAVEPOINT ${COPY_SAVEPOINT}`);
    for (const step of conflicts) conflicted += (await client.query(step)).rowCount ?? 0;
    refused = await client.query<{ ord: number; reason: number }>(sql.refusedRecords(tables));
    failure = await copyAccepted(batch, skipped(refused.rows, rejects));
  }
  if (failure !== undefined) throw failure;
  await client.query(`RELEASE SAVEPOINT ${COPY_SAVEPOINT}`);
  memory.tableConflicts = conflicted > 0;

  const merged: [number, Reject][] = [];
  let i = 0;
  for (const { ord, reason } of refused.rows) {
    while (i < rejects.length && rejects[i]![0] < ord) merged.push(rejects[i++]!);
    const rule = reasons[reason]!;
    merged.push([ord, recordReject(data, base, recs, ord, { code: rule.sqlstate, message: rule.message }, textEncoding)]);
  }
  while (i < rejects.length) merged.push(rejects[i++]!);
  return { loaded: staged - refused.rows.length, rejects: merged };
}

/** The records to leave out, in order: those the stage's COPY refused and those the rules refuse. */
function skipped(refused: { ord: number }[], rejects: [number, Reject][]): number[] {
  const out = refused.map((r) => r.ord);
  for (const [r] of rejects) out.push(r);
  return out.sort((a, b) => a - b);
}

/**
 * COPYs the batch's records into the target but those in `skip` (sorted). Returns undefined when
 * they all went in, else the error (the caller rolls back).
 */
async function copyAccepted(batch: StagedBatch, skip: number[]): Promise<unknown | undefined> {
  const { client, data, base, recs } = batch;
  const runs = function* () {
    let from = 0;
    for (const r of [...skip, recs.length]) {
      if (r > from) yield recordBytes(data, base, recs, from, r);
      from = r + 1;
    }
  };
  const { err, rowCount } = await copyPieces(client, batch.statement, runs());
  if (err !== undefined) return err;
  const expected = recs.length - skip.length;
  if (rowCount !== expected) return new Error(`the stage's COPY of ${expected} records loaded ${rowCount} rows`);
  return undefined;
}

/** The target's OID in the catalog of the session's own node. */
async function sessionOid(client: PoolClient, target: { oid: number; sql: string }): Promise<number> {
  const { rows } = await client.query<{ oid: number | null }>('SELECT to_regclass($1)::oid::int AS oid', [target.sql]);
  return rows[0]?.oid ?? target.oid;
}

// atomicity "job", and the replace and upsert modes: nothing is visible until everything is loaded.
// Files load into a table aside (a staging table colocated with a distributed target, or for replace a
// full copy of the target's definition); then one transaction publishes: append inserts the staged rows,
// upsert inserts or updates them by key, replace swaps the new table in by renaming. The file-ledger
// rows are written in that same transaction, so a crash at any point leaves either nothing or
// everything, and a retry starts from a fresh staging table.
// Every staging table lives in the service's schema `ingest_stage`, which no job and no table operation
// may name (schemaPolicy.ts), under a name carrying the job's id: dropping one a crashed attempt left can
// only ever drop this job's own table, never a user's table whose name happens to match.
import type { Pool } from '../db/pool.js';
import { hasSqlState, isRetryableDbError } from '../db/sqlstate.js';
import { inTransaction } from '../db/transaction.js';
import { IngestError } from '../errors.js';
import { specDefaults, type JobSpec } from '../jobs/spec.js';
import type { Logger } from '../log.js';
import { sourceUrl } from '../sources/registry.js';
import { ledgerKeyOf } from './objectLoad.js';
import type { ObjectInfo } from '../sources/source.js';
import { claimLedgerEntry, completeLedgerEntry, forgetTarget } from '../sql/fileLedger.js';
import { recordRunFile } from '../sql/runFiles.js';
import { citusVersion, distributionOf } from '../sink/citus.js';
import { generatedName, parseTableName, qualifiedName, quoteIdent, type TableName } from '../sink/names.js';
import { resolveTarget } from '../sink/resolveTarget.js';
import type { FileResult } from './objectLoad.js';

export interface StagedTarget {
  /** Quoted name of the table the files load into. */
  sql: string;
  /** Its name as `schema.table` for resolveTarget (quoted parts). */
  name: string;
}

export const STAGE_SCHEMA = 'ingest_stage';

const jobTag = (jobId: string) => jobId.replace(/-/g, '').slice(0, 12);

function stageNameFor(spec: JobSpec, jobId: string): TableName {
  const target = parseTableName(spec.target.table);
  if (spec.mode === 'replace') return { schema: STAGE_SCHEMA, table: generatedName(target.table, `__ci_new_${jobTag(jobId)}`) };
  return { schema: STAGE_SCHEMA, table: generatedName('stage_', jobId.replace(/-/g, '')) };
}

/** Creates the table files load into; drops one a crashed attempt left behind first. */
export async function createStage(pool: Pool, spec: JobSpec, jobId: string): Promise<StagedTarget> {
  const target = qualifiedName(parseTableName(spec.target.table));
  const stage = stageNameFor(spec, jobId);
  const stageSql = qualifiedName(stage);
  // A transaction-scoped lock, so it holds (and is released) on the same server connection behind a
  // pooler in transaction mode; the table is created and distributed in that one transaction.
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7246))', [stageSql]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(STAGE_SCHEMA)}`);
    await client.query(`DROP TABLE IF EXISTS ${stageSql}`);
    const like = spec.mode === 'replace' ? 'INCLUDING ALL' : 'INCLUDING DEFAULTS INCLUDING GENERATED';
    await client.query(`CREATE TABLE ${stageSql} (LIKE ${target} ${like})`);
    if (await citusVersion(client)) {
      const { rows } = await client.query<{ oid: number }>('SELECT $1::regclass::oid::int AS oid', [target]);
      const d = await distributionOf(client, rows[0]!.oid);
      if (d.type === 'distributed') {
        await client.query(`SELECT create_distributed_table($1::regclass, $2, colocate_with => $3)`, [stageSql, d.column, target]);
      } else if (d.type === 'reference') {
        await client.query('SELECT create_reference_table($1::regclass)', [stageSql]);
      }
    }
    return { sql: stageSql, name: `${quoteIdent(stage.schema)}.${quoteIdent(stage.table)}` };
  });
}

/** Drops the table a failed or cancelled attempt staged into (the next attempt starts afresh). */
export async function dropStageFor(pool: Pool, spec: JobSpec, jobId: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${qualifiedName(stageNameFor(spec, jobId))}`);
}

export interface Published {
  mode: NonNullable<JobSpec['mode']>;
  /** Rows the publishing statement wrote (inserted, or inserted + updated for upsert). */
  rows: number;
}

/** One transaction: move the staged rows into place and write every loaded file's ledger row. */
export async function publish(
  pool: Pool,
  log: Logger,
  spec: JobSpec,
  stage: StagedTarget,
  files: Array<{ object: ObjectInfo; result: FileResult }>,
  ids: { jobId: string; runId: string; target: string },
): Promise<Published> {
  const mode = spec.mode ?? specDefaults.mode;
  const target = parseTableName(spec.target.table);
  const targetSql = qualifiedName(target);
  let rows: number;
  try {
    rows = await inTransaction(pool, async (client) => {
      let rows = 0;
      if (mode === 'replace') {
        await client.query(`LOCK TABLE ${targetSql} IN ACCESS EXCLUSIVE MODE`);
        // A rename onto a name already taken fails (and rolls back the swap), so the table dropped under
        // the aside name is the old target itself; the new one moves out of ingest_stage under its own
        // generated name, then takes the target's.
        const aside = generatedName(target.table, `__ci_old_${jobTag(ids.jobId)}`);
        const arriving = stageNameFor(spec, ids.jobId).table;
        await client.query(`ALTER TABLE ${targetSql} RENAME TO ${quoteIdent(aside)}`);
        await client.query(`ALTER TABLE ${stage.sql} SET SCHEMA ${quoteIdent(target.schema)}`);
        await client.query(`ALTER TABLE ${qualifiedName({ schema: target.schema, table: arriving })} RENAME TO ${quoteIdent(target.table)}`);
        await client.query(`DROP TABLE ${qualifiedName({ schema: target.schema, table: aside })}`);
        await forgetTarget(client, ids.target);
        rows = files.reduce((a, f) => a + f.result.rowsLoaded, 0);
      } else {
        const cols = (await resolveTarget(client, stage.name, spec.target.columns === 'header' ? undefined : spec.target.columns)).columns;
        const list = cols.map(quoteIdent).join(', ');
        let sql = `INSERT INTO ${targetSql} (${list}) SELECT ${list} FROM ${stage.sql}`;
        if (mode === 'upsert') {
          const key = new Set(spec.key!);
          const sets = cols.filter((c) => !key.has(c)).map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`);
          sql += ` ON CONFLICT (${spec.key!.map(quoteIdent).join(', ')}) DO ${sets.length ? `UPDATE SET ${sets.join(', ')}` : 'NOTHING'}`;
        }
        const res = await client.query(sql);
        rows = res.rowCount ?? 0;
        const staged = files.reduce((a, f) => a + f.result.rowsLoaded, 0);
        if (mode === 'append' && rows !== staged) {
          throw new IngestError('RECORD_COUNT_MISMATCH', `staged ${staged} rows but published ${rows}; nothing was published`, { staged, published: rows });
        }
        await client.query(`DROP TABLE ${stage.sql}`);
      }
      // After a replace the name resolves to the table just swapped in: the ledger follows it.
      const { rows: [published] } = await client.query<{ oid: number }>('SELECT $1::regclass::oid AS oid', [targetSql]);
      for (const { object, result } of files) {
        const key = ledgerKeyOf(ids.target, object, published!.oid);
        const existing = await claimLedgerEntry(client, key, ids.jobId, ids.runId, spec.reload === true || mode === 'replace');
        if (existing && existing.jobId !== ids.jobId) {
          throw new IngestError('LEDGER_CONFLICT', `${sourceUrl(object)} was loaded into ${spec.target.table} by job ${existing.jobId} while this job staged it; nothing was published, the retry skips it`, {
            url: sourceUrl(object),
            loadedByJob: existing.jobId,
          });
        }
        await completeLedgerEntry(client, key, result.rowsLoaded);
        await recordRunFile(client, {
          runId: ids.runId, jobId: ids.jobId, object,
          status: 'loaded', rowsLoaded: result.rowsLoaded, rowsRejected: result.rowsRejected, blankLines: result.blankLines,
          bytesRead: result.bytesRead, timings: result.timings,
        });
      }
      return rows;
    });
  } catch (err) {
    if (err instanceof IngestError) throw err;
    if (hasSqlState(err) && !isRetryableDbError(err)) {
      throw new IngestError('PUBLISH_FAILED', `publishing into ${spec.target.table} (${mode}) failed (SQLSTATE ${err.code}): ${err.message ?? ''}; nothing was published`, {
        sqlstate: err.code,
        mode,
      }, { cause: err });
    }
    throw err;
  }
  log.info({ mode, rows }, 'published');
  return { mode, rows };
}


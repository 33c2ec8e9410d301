// Mode "merge": the table each file's records are copied into before they are merged, one per job.
// It has the target's columns (and the operation column when the target does not keep it) plus the
// record's position in the file, drawn from a sequence as COPY inserts, so "the last record per key
// wins" follows file order. The operation column's type is a domain that allows only the listed
// values and no NULL: COPY checks it while it parses the record, on the coordinator, so an unlisted
// value is a reject with its line and column like any other bad field (a CHECK constraint on a Citus
// shard would fail on the worker, without a line). On Citus the stage is colocated with the target.
import type { Pool, PoolClient } from '../db/pool.js';
import { IngestError } from '../errors.js';
import type { JobSpec } from '../jobs/spec.js';
import { citusVersion, distributionOf } from '../sink/citus.js';
import { mergeStatements, SEQ_COLUMN, type MergeStatements } from '../sink/mergeSql.js';
import { generatedName, parseTableName, qualifiedName, quoteIdent, quoteLiteral } from '../sink/names.js';
import type { MergeCounts } from '../sql/jobRows.js';
import { STAGE_SCHEMA } from './stagedLoad.js';

export interface MergeStage {
  /** Quoted name of the staging table. */
  sql: string;
  /** Its name as `schema.table` for resolveTarget (quoted parts). */
  name: string;
  /** The file's columns, in file order (COPY's column list). */
  fileColumns: string[];
  statements: MergeStatements;
}

function namesFor(jobId: string): { table: string; domain: string } {
  const tag = jobId.replace(/-/g, '');
  return {
    table: qualifiedName({ schema: STAGE_SCHEMA, table: generatedName('merge_', tag) }),
    domain: qualifiedName({ schema: STAGE_SCHEMA, table: generatedName('merge_op_', tag) }),
  };
}

async function columnTypes(client: PoolClient, table: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_catalog.pg_attribute
      WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
    [table],
  );
  return new Map(rows.map((r) => [r.name, r.type]));
}

/** Creates the job's merge stage (dropping one a crashed attempt left) and the statements that merge it. */
export async function createMergeStage(pool: Pool, spec: JobSpec, jobId: string): Promise<MergeStage> {
  const op = spec.operation!;
  const key = spec.key!;
  const target = qualifiedName(parseTableName(spec.target.table));
  const names = namesFor(jobId);
  const client = await pool.connect();
  try {
    const types = await columnTypes(client, target);
    const fileColumns = Array.isArray(spec.target.columns) ? spec.target.columns : [...types.keys()];
    if (!fileColumns.includes(op.column)) {
      throw new IngestError('MERGE_KEY_INVALID', `operation.column ${JSON.stringify(op.column)} is neither a column of ${spec.target.table} nor in target.columns; list the file's columns in target.columns`, {
        field: '/operation/column',
      });
    }
    const missingKey = key.find((k) => !types.has(k) || !fileColumns.includes(k));
    if (missingKey !== undefined) {
      throw new IngestError('MERGE_KEY_INVALID', `key column ${JSON.stringify(missingKey)} must be a column of ${spec.target.table} and of the file`, { field: '/key', column: missingKey });
    }
    const citus = await citusVersion(client);
    const { rows } = await client.query<{ oid: number }>('SELECT $1::regclass::oid::int AS oid', [target]);
    const dist = citus ? await distributionOf(client, rows[0]!.oid) : { type: 'local' as const, column: null };
    if (dist.type === 'distributed' && !key.includes(dist.column!)) {
      throw new IngestError(
        'MERGE_KEY_INVALID',
        `key ${JSON.stringify(key)} does not include ${spec.target.table}'s distribution column ${JSON.stringify(dist.column)}: a merge by it could not run shard by shard`,
        { field: '/key', distributionColumn: dist.column },
      );
    }
    const values = [...op.delete, ...op.upsert].map(quoteLiteral).join(', ');
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(STAGE_SCHEMA)}`);
    await client.query(`DROP TABLE IF EXISTS ${names.table}`);
    await client.query(`DROP DOMAIN IF EXISTS ${names.domain}`);
    // Over the target column's own type when the target keeps the operation, so values convert as stored.
    await client.query(`CREATE DOMAIN ${names.domain} AS ${types.get(op.column) ?? 'text'} NOT NULL CHECK (VALUE IN (${values}))`);
    await client.query(`CREATE TABLE ${names.table} (LIKE ${target} INCLUDING DEFAULTS)`);
    if (types.has(op.column)) {
      await client.query(`ALTER TABLE ${names.table} ALTER COLUMN ${quoteIdent(op.column)} TYPE ${names.domain}`);
    } else {
      await client.query(`ALTER TABLE ${names.table} ADD COLUMN ${quoteIdent(op.column)} ${names.domain}`);
    }
    await client.query(`ALTER TABLE ${names.table} ADD COLUMN ${quoteIdent(SEQ_COLUMN)} bigserial`);
    if (dist.type === 'distributed') {
      await client.query('SELECT create_distributed_table($1::regclass, $2, colocate_with => $3)', [names.table, dist.column, target]);
    } else if (dist.type === 'reference') {
      await client.query('SELECT create_reference_table($1::regclass)', [names.table]);
    }
    const written = fileColumns.filter((c) => types.has(c));
    return {
      sql: names.table,
      name: names.table,
      fileColumns,
      statements: mergeStatements({
        target, stage: names.table, key, columns: written,
        operationColumn: op.column, deleteValues: op.delete, upsertValues: op.upsert,
      }),
    };
  } finally {
    client.release();
  }
}

/** Drops the job's merge stage and its domain. */
export async function dropMergeStage(pool: Pool, jobId: string): Promise<void> {
  const names = namesFor(jobId);
  await pool.query(`DROP TABLE IF EXISTS ${names.table}`);
  await pool.query(`DROP DOMAIN IF EXISTS ${names.domain}`);
}


/** Merges the staged file into the target on the file's own transaction and empties the stage. */
export async function applyMerge(client: PoolClient, stage: MergeStage): Promise<Omit<MergeCounts, 'rejected'>> {
  const s = stage.statements;
  await client.query(s.dedupe);
  const { rows } = await client.query<{ deletes: number; upserts: number }>(s.count);
  const deleted = (await client.query(s.remove)).rowCount ?? 0;
  const updated = (await client.query(s.update)).rowCount ?? 0;
  const inserted = (await client.query(s.insert)).rowCount ?? 0;
  await client.query(s.clear);
  return { inserted, updated, deleted, deleteMissing: Math.max(0, rows[0]!.deletes - deleted) };
}

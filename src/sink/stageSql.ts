// The statements of the staged route for a failed batch (batchStage.ts), built from quoted identifiers
// only: the stage table shaped like the file's columns of the target with each record's index in the
// batch, the table of refused records (their index and the rule they break), and one query per rule
// that finds the records breaking it.
import { quoteIdent } from './names.js';
import type { CheckRule, ForeignKeyRule, StageColumn, UniqueRule } from './targetConstraints.js';

/** The stage's column holding a record's index in the batch. */
export const ORD = 'citus_ingest_ord';
export const ORD_SEQUENCE = 'pg_temp.citus_ingest_stage_ord';

export interface StageTables {
  /** pg_temp."citus_ingest_stage_<oid>" */
  stage: string;
  /** pg_temp."citus_ingest_stage_<oid>_refused": (ord, reason, dup) */
  refused: string;
}

export function stageTables(oid: number): StageTables {
  return { stage: `pg_temp.${quoteIdent(`citus_ingest_stage_${oid}`)}`, refused: `pg_temp.${quoteIdent(`citus_ingest_stage_${oid}_refused`)}` };
}

/** Creates the sequence and both tables unless there (they go at the end of the transaction). */
export function createStage(t: StageTables, columns: StageColumn[]): string {
  const cols = columns.map((c) => `${quoteIdent(c.name)} ${c.type}${c.notNull ? ' NOT NULL' : ''}`);
  return [
    'CREATE TEMP SEQUENCE IF NOT EXISTS citus_ingest_stage_ord MINVALUE 0',
    `CREATE TEMP TABLE IF NOT EXISTS ${t.stage.slice('pg_temp.'.length)} (${ORD} bigint NOT NULL DEFAULT nextval('${ORD_SEQUENCE}'), ${cols.join(', ')}) ON COMMIT DROP`,
    `CREATE TEMP TABLE IF NOT EXISTS ${t.refused.slice('pg_temp.'.length)} (ord bigint NOT NULL, reason int NOT NULL, dup boolean NOT NULL) ON COMMIT DROP`,
  ].join('; ');
}

const keyMatch = (cols: string[], left: string, right: string, rightCols = cols, nullsEqual = false): string =>
  cols.map((c, i) => `${left}.${quoteIdent(c)} ${nullsEqual ? 'IS NOT DISTINCT FROM' : '='} ${right}.${quoteIdent(rightCols[i]!)}`).join(' AND ');

const allSet = (cols: string[], alias: string): string => cols.map((c) => `${alias}.${quoteIdent(c)} IS NOT NULL`).join(' AND ');

/** Records whose CHECK expression is false (null passes, as in PostgreSQL). */
export function checkViolations(t: StageTables, rule: CheckRule, reason: number): string {
  return `INSERT INTO ${t.refused} SELECT ${ORD}, ${reason}, false FROM ${t.stage} WHERE NOT (${rule.expr})`;
}

/** Records whose key is already in the target (earlier batches of this file included). */
export function keyConflicts(t: StageTables, targetSql: string, rule: UniqueRule, reason: number): string {
  return `INSERT INTO ${t.refused} SELECT s.${ORD}, ${reason}, false FROM ${t.stage} s JOIN ${targetSql} x ON ${keyMatch(rule.columns, 's', 'x', rule.columns, rule.nullsNotDistinct)}`;
}

/**
 * Records whose key an earlier record of the batch has, among the records refused for no other rule
 * yet: the first in file order keeps the key, as it would have in one COPY.
 */
export function keyRepeats(t: StageTables, rule: UniqueRule, reason: number): string {
  const set = rule.nullsNotDistinct ? '' : `${allSet(rule.columns, 's')} AND `;
  const key = rule.columns.map((c) => `s.${quoteIdent(c)}`).join(', ');
  return `INSERT INTO ${t.refused} SELECT ord, ${reason}, true FROM (
      SELECT s.${ORD} AS ord, row_number() OVER (PARTITION BY ${key} ORDER BY s.${ORD}) AS n FROM ${t.stage} s
       WHERE ${set}NOT EXISTS (SELECT 1 FROM ${t.refused} r WHERE r.ord = s.${ORD} AND NOT r.dup)) d
    WHERE d.n > 1`;
}

/** Records whose foreign key has no referenced row (MATCH SIMPLE: only keys with no null column). */
export function missingReferences(t: StageTables, rule: ForeignKeyRule, reason: number): string {
  const found = `SELECT s2.${ORD} FROM ${t.stage} s2 JOIN ${rule.refSql} p ON ${keyMatch(rule.columns, 's2', 'p', rule.refColumns)}`;
  const partlyNull = rule.matchFull && rule.columns.length > 1
    ? ` OR (NOT (${allSet(rule.columns, 's')}) AND (${rule.columns.map((c) => `s.${quoteIdent(c)} IS NOT NULL`).join(' OR ')}))`
    : '';
  return `INSERT INTO ${t.refused} SELECT s.${ORD}, ${reason}, false FROM ${t.stage} s
     WHERE (${allSet(rule.columns, 's')} AND s.${ORD} NOT IN (${found}))${partlyNull}`;
}

/** How many unique rules saw a key repeated within the batch. */
export function repeatedRules(t: StageTables): string {
  return `SELECT count(DISTINCT reason)::int AS n FROM ${t.refused} WHERE dup`;
}

/** Each refused record once, in file order, with the first rule it breaks in PostgreSQL's order. */
export function refusedRecords(t: StageTables): string {
  return `SELECT ord::int AS ord, min(reason) AS reason FROM ${t.refused} GROUP BY ord ORDER BY ord`;
}

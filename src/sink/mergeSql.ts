// The statements of mode "merge", built from quoted identifiers and literals only. A file's records sit
// in a staging table (colocated with a distributed target) with their operation and their position in
// the file; these statements keep the last record per key, delete, update and insert. Every one joins
// the stage and the target on the key, which holds the distribution column, so on Citus each runs shard
// by shard on the workers (test/merge.test.ts checks the plans).
import { quoteIdent, quoteLiteral } from './names.js';

/** The staging table's column holding each record's position in its file (file order). */
export const SEQ_COLUMN = '__ci_seq';

export interface MergeSqlInput {
  /** The target as quoted SQL. */
  target: string;
  /** The staging table as quoted SQL. */
  stage: string;
  key: string[];
  /** The columns the merge writes into the target: the file's columns that the target has. */
  columns: string[];
  operationColumn: string;
  deleteValues: string[];
  upsertValues: string[];
}

export interface MergeStatements {
  /** Keeps only the last record per key (file order). */
  dedupe: string;
  /** Counts the delete and upsert records left: columns `deletes`, `upserts`. */
  count: string;
  /** Deletes the target's rows whose key has a delete record; its row count is `deleted`. */
  remove: string;
  /** Updates the target's rows whose key has an upsert record; its row count is `updated`. */
  update: string;
  /** Inserts the upsert records whose key the target lacks; its row count is `inserted`. */
  insert: string;
  /** Empties the stage for the next file (in the same transaction). */
  clear: string;
}

export function mergeStatements(m: MergeSqlInput): MergeStatements {
  const seq = quoteIdent(SEQ_COLUMN);
  const op = `s.${quoteIdent(m.operationColumn)}`;
  const inList = (values: string[]) => `(${values.map(quoteLiteral).join(', ')})`;
  const keyJoin = (a: string, b: string) => m.key.map((k) => `${a}.${quoteIdent(k)} = ${b}.${quoteIdent(k)}`).join(' AND ');
  const keys = new Set(m.key);
  const nonKey = m.columns.filter((c) => !keys.has(c));
  // With nothing but the key to write, an update still counts the rows that exist: it sets the key to itself.
  const sets = (nonKey.length ? nonKey : m.key).map((c) => `${quoteIdent(c)} = s.${quoteIdent(c)}`).join(', ');
  const list = m.columns.map(quoteIdent).join(', ');
  return {
    dedupe: `DELETE FROM ${m.stage} s USING ${m.stage} l WHERE ${keyJoin('s', 'l')} AND s.${seq} < l.${seq}`,
    count: `SELECT count(*) FILTER (WHERE ${op} IN ${inList(m.deleteValues)})::bigint AS deletes,
                   count(*) FILTER (WHERE ${op} IN ${inList(m.upsertValues)})::bigint AS upserts
              FROM ${m.stage} s`,
    remove: `DELETE FROM ${m.target} t USING ${m.stage} s WHERE ${keyJoin('t', 's')} AND ${op} IN ${inList(m.deleteValues)}`,
    update: `UPDATE ${m.target} t SET ${sets} FROM ${m.stage} s WHERE ${keyJoin('t', 's')} AND ${op} IN ${inList(m.upsertValues)}`,
    insert: `INSERT INTO ${m.target} (${list})
             SELECT ${m.columns.map((c) => `s.${quoteIdent(c)}`).join(', ')} FROM ${m.stage} s
              WHERE ${op} IN ${inList(m.upsertValues)}
                AND NOT EXISTS (SELECT 1 FROM ${m.target} t WHERE ${keyJoin('t', 's')})`,
    clear: `TRUNCATE ${m.stage}`,
  };
}

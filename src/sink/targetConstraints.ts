// What a target table refuses a row for, read from pg_catalog by the table's OID, for checking a
// staged batch with set-based queries (see batchStage.ts): CHECK expressions, unique indexes (primary
// keys and unique constraints among them) and foreign keys, and the file's columns as the table types
// them. A table with a rule the stage cannot reproduce (exclusion constraints, row INSERT triggers,
// INSERT rules, row security, deferred checks, expression or partial unique indexes, a constraint on a
// column the file does not fill) is not covered: its batches are isolated by BatchCopier alone.
import type { PoolClient } from '../db/pool.js';
import { qualifiedName } from './names.js';

export interface StageColumn {
  name: string;
  /** The column's type as PostgreSQL writes it, with its collation when it is not the type's own. */
  type: string;
  notNull: boolean;
}

export interface CheckRule {
  name: string;
  /** The expression, over the table's column names (pg_get_expr). */
  expr: string;
}

export interface UniqueRule {
  /** The index's name: PostgreSQL names it in a duplicate key error. */
  name: string;
  columns: string[];
  nullsNotDistinct: boolean;
}

export interface ForeignKeyRule {
  name: string;
  columns: string[];
  /** The referenced table as quoted SQL. */
  refSql: string;
  refColumns: string[];
  /** MATCH FULL: a key with some of its columns null is refused too. */
  matchFull: boolean;
}

export type TargetConstraints =
  | { covered: true; table: string; columns: StageColumn[]; checks: CheckRule[]; uniques: UniqueRule[]; foreignKeys: ForeignKeyRule[] }
  | { covered: false; why: string };

const attnames = (rel: string, keys: string) =>
  `ARRAY(SELECT a.attname FROM unnest(${keys}) WITH ORDINALITY k(n, o) JOIN pg_catalog.pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.n ORDER BY k.o)::text[]`;

export async function targetConstraints(client: PoolClient, oid: number, fileColumns: string[]): Promise<TargetConstraints> {
  const rel = await client.query<{ relname: string; relkind: string; rls: boolean; triggers: boolean; rules: boolean }>(
    `SELECT c.relname, c.relkind, c.relrowsecurity AS rls,
            EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal AND (g.tgtype & 5) = 5) AS triggers,
            EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite w WHERE w.ev_class = c.oid AND w.ev_type = '3') AS rules
       FROM pg_catalog.pg_class c WHERE c.oid = $1`,
    [oid],
  );
  const t = rel.rows[0];
  if (!t) return { covered: false, why: 'the table is gone' };
  if (t.relkind !== 'r') return { covered: false, why: 'a partitioned table' };
  if (t.rls) return { covered: false, why: 'row security' };
  if (t.triggers) return { covered: false, why: 'row INSERT triggers' };
  if (t.rules) return { covered: false, why: 'INSERT rules' };

  const cons = await client.query<{ name: string; kind: string; match: string; deferrable: boolean; expr: string | null; columns: string[]; ref_oid: number; ref_schema: string | null; ref_table: string | null; ref_columns: string[] }>(
    `SELECT con.conname AS name, con.contype AS kind, con.confmatchtype AS match, con.condeferrable AS deferrable,
            pg_catalog.pg_get_expr(con.conbin, con.conrelid) AS expr,
            ${attnames('con.conrelid', 'con.conkey')} AS columns,
            con.confrelid AS ref_oid, rn.nspname AS ref_schema, rc.relname AS ref_table,
            ${attnames('con.confrelid', 'con.confkey')} AS ref_columns
       FROM pg_catalog.pg_constraint con
       LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
       LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.conrelid = $1 AND con.contype IN ('c', 'f', 'x', 't')
      ORDER BY con.conname`,
    [oid],
  );
  const filled = new Set(fileColumns);
  const checks: CheckRule[] = [];
  const foreignKeys: ForeignKeyRule[] = [];
  for (const c of cons.rows) {
    if (c.kind === 'x' || c.kind === 't') return { covered: false, why: `${c.kind === 'x' ? 'exclusion' : 'trigger'} constraint ${c.name}` };
    if (c.deferrable) return { covered: false, why: `deferrable constraint ${c.name}` };
    if (c.columns.length === 0 || !c.columns.every((col) => filled.has(col))) return { covered: false, why: `constraint ${c.name} on a column the file does not fill` };
    if (c.kind === 'c') checks.push({ name: c.name, expr: c.expr! });
    else if (Number(c.ref_oid) === oid) return { covered: false, why: `foreign key ${c.name} to the table itself` };
    else foreignKeys.push({ name: c.name, columns: c.columns, refSql: qualifiedName({ schema: c.ref_schema!, table: c.ref_table! }), refColumns: c.ref_columns, matchFull: c.match === 'f' });
  }

  const idx = await client.query<{ name: string; plain: boolean; immediate: boolean; nnd: boolean; columns: string[] }>(
    `SELECT ic.relname AS name, i.indexprs IS NULL AND i.indpred IS NULL AS plain, i.indimmediate AS immediate,
            i.indnullsnotdistinct AS nnd,
            ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
                   WHERE k.o <= i.indnkeyatts ORDER BY k.o)::text[] AS columns
       FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indrelid = $1 AND i.indisunique
      ORDER BY i.indexrelid`,
    [oid],
  );
  const uniques: UniqueRule[] = [];
  for (const u of idx.rows) {
    if (!u.plain) return { covered: false, why: `unique index ${u.name} on an expression or with a predicate` };
    if (!u.immediate) return { covered: false, why: `deferrable unique index ${u.name}` };
    if (!u.columns.every((col) => filled.has(col))) return { covered: false, why: `unique index ${u.name} on a column the file does not fill` };
    uniques.push({ name: u.name, columns: u.columns, nullsNotDistinct: u.nnd });
  }

  const cols = await client.query<{ name: string; type: string; notnull: boolean }>(
    `SELECT a.attname AS name, a.attnotnull AS notnull,
            pg_catalog.format_type(a.atttypid, a.atttypmod)
              || CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation
                      THEN ' COLLATE ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname) ELSE '' END AS type
       FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
       LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
       LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped`,
    [oid],
  );
  const byName = new Map(cols.rows.map((c) => [c.name, c]));
  const columns: StageColumn[] = [];
  for (const name of fileColumns) {
    const c = byName.get(name);
    if (!c) return { covered: false, why: `column ${name} not in the table` };
    columns.push({ name, type: c.type, notNull: c.notnull });
  }
  return { covered: true, table: t.relname, columns, checks, uniques, foreignKeys };
}

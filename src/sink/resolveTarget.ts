// Finds the target table in the catalog and settles the column list a COPY will name.
import type { PoolClient } from '../db/pool.js';
import { IngestError } from '../errors.js';
import { parseTableName, qualifiedName, type TableName } from './names.js';

export interface ResolvedTarget extends TableName {
  /** The table's OID: its identity, which the ledger records (a table created again under the name has another). */
  oid: number;
  /** The table as quoted SQL: "schema"."table". */
  sql: string;
  /** Columns the file fills, in file order. */
  columns: string[];
  /**
   * Formats that name their fields (JSON Lines, Parquet): the field that fills each of `columns`, in the
   * same order (the column's own name, unless target.columns maps another field to it).
   */
  fields: string[];
  /** Every insertable column of the table, in table order. */
  tableColumns: string[];
  /** What a decoder checks a source's fields against: each insertable column's type and constraints. */
  columnInfo: ColumnInfo[];
}

export interface ColumnInfo {
  name: string;
  /** The type as PostgreSQL writes it (format_type): "bigint", "numeric(12,2)", "jsonb". */
  type: string;
  notNull: boolean;
  hasDefault: boolean;
}

/** target.columns as a spec may give it: a list, "header", or a map from source fields to columns. */
export type ColumnsSpec = string[] | 'header' | Record<string, string> | undefined;

export async function resolveTarget(client: PoolClient, table: string, columnsSpec?: ColumnsSpec): Promise<ResolvedTarget> {
  const mapped = columnsSpec !== undefined && columnsSpec !== 'header' && !Array.isArray(columnsSpec) ? Object.entries(columnsSpec) : undefined;
  const columns = mapped ? mapped.map(([, column]) => column) : columnsSpec;
  const name = parseTableName(table);
  const rel = await client.query<{ oid: number; relkind: string }>(
    `SELECT c.oid, c.relkind
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [name.schema, name.table],
  );
  const row = rel.rows[0];
  if (!row) {
    throw new IngestError(
      'TARGET_NOT_FOUND',
      `target table ${name.schema}.${name.table} does not exist; create it before loading, or check target.table`,
      { field: '/target/table', schema: name.schema, table: name.table },
    );
  }
  if (row.relkind !== 'r' && row.relkind !== 'p') {
    throw new IngestError('TARGET_NOT_FOUND', `${name.schema}.${name.table} is not a table (relkind ${row.relkind}); COPY needs a table`, {
      field: '/target/table',
    });
  }
  const cols = await client.query<{ attname: string; type: string; notnull: boolean; hasdef: boolean }>(
    `SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull AS notnull, atthasdef AS hasdef FROM pg_catalog.pg_attribute
      WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
      ORDER BY attnum`,
    [row.oid],
  );
  const tableColumns = cols.rows.map((r) => r.attname);
  if (Array.isArray(columns)) {
    const known = new Set(tableColumns);
    const missing = columns.filter((c) => !known.has(c));
    if (missing.length > 0) {
      const hints = missing
        .map((m) => tableColumns.find((t) => t.toLowerCase() === m.toLowerCase()))
        .filter((h): h is string => h !== undefined);
      throw new IngestError(
        'TARGET_COLUMN_NOT_FOUND',
        `target.columns names ${missing.map((m) => JSON.stringify(m)).join(', ')}, not in ${name.schema}.${name.table}` +
          (hints.length > 0 ? ` (column names are exact: did you mean ${hints.map((h) => JSON.stringify(h)).join(', ')}?)` : '') +
          `; its columns are ${tableColumns.map((c) => JSON.stringify(c)).join(', ')}`,
        { field: '/target/columns', missing, tableColumns },
      );
    }
  }
  const chosen = Array.isArray(columns) ? columns : tableColumns;
  return {
    ...name, oid: row.oid, sql: qualifiedName(name), columns: chosen, tableColumns,
    fields: mapped ? mapped.map(([field]) => field) : chosen,
    columnInfo: cols.rows.map((r) => ({ name: r.attname, type: r.type, notNull: r.notnull, hasDefault: r.hasdef })),
  };
}

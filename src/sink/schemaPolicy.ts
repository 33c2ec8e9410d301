// Which schemas a job may write into. Never the service's own (`ingest`, whose file ledger decides what
// counts as loaded, and `ingest_stage`), nor the system's (`pg_catalog`, `information_schema`, `pg_toast`
// and every other `pg_*`) or Citus's (`citus`, `citus_internal`, `columnar`, `columnar_internal`).
// TARGET_ALLOWED_SCHEMAS narrows it further to a positive list. Checked on the name a job gives when it
// is submitted, and again on the schema the catalog resolves the table to before anything is written.
// The same rule covers the tables /tables/:name reads and operates on (ops/operationTable.ts).
import type { Pool, PoolClient } from '../db/pool.js';
import { IngestError } from '../errors.js';

/** Schemas no job writes into, whatever TARGET_ALLOWED_SCHEMAS says. */
export const RESERVED_SCHEMAS: readonly string[] = ['ingest', 'ingest_stage', 'information_schema', 'citus', 'citus_internal', 'columnar', 'columnar_internal'];

/** True for a schema no job may write into (compared case-insensitively: `"INGEST"` is refused too). */
export function isReservedSchema(schema: string): boolean {
  const s = schema.toLowerCase();
  return s.startsWith('pg_') || RESERVED_SCHEMAS.includes(s);
}

/** Where the refused name came from, as the error names it. */
export interface NameSource {
  /** The field in details.field: `/target/table` in a job spec. */
  field: string;
  /** How the message calls it: `target.table`. */
  label: string;
}

const jobTarget: NameSource = { field: '/target/table', label: 'target.table' };

/** Throws TARGET_FORBIDDEN naming the field when `schema` is reserved or outside `allowed` (when set). */
export function checkTargetSchema(schema: string, allowed: readonly string[], table: string, from: NameSource = jobTarget): void {
  if (isReservedSchema(schema)) {
    throw new IngestError(
      'TARGET_FORBIDDEN',
      `${from.label} ${JSON.stringify(table)} is in schema ${JSON.stringify(schema)}, which belongs to the service, PostgreSQL or Citus; use a schema of your own`,
      { field: from.field, schema, reason: 'is in a schema that belongs to the service, PostgreSQL or Citus' },
    );
  }
  if (allowed.length > 0 && !allowed.includes(schema)) {
    throw new IngestError(
      'TARGET_FORBIDDEN',
      `${from.label} ${JSON.stringify(table)} is in schema ${JSON.stringify(schema)}, not in TARGET_ALLOWED_SCHEMAS (${allowed.join(', ')})`,
      { field: from.field, schema, reason: 'is in a schema not in TARGET_ALLOWED_SCHEMAS' },
    );
  }
}

/** The check on what the catalog says: the schema the relation with this OID really lives in. */
export async function checkResolvedSchema(db: Pool | PoolClient, oid: number, allowed: readonly string[], table: string, from: NameSource = jobTarget): Promise<void> {
  const { rows } = await db.query<{ nspname: string }>(
    'SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1',
    [oid],
  );
  // A table dropped in between resolves to nothing: the load then fails on the missing table.
  if (rows[0]) checkTargetSchema(rows[0].nspname, allowed, table, from);
}

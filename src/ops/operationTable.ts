// The table a /tables/:name request names, for reading its facts or running an operation on it: parsed
// the way SQL reads it, refused by the rule a load's target obeys (sink/schemaPolicy.ts) before the
// catalog is asked, so the answer says nothing about what exists there, then looked up and checked
// again on the schema the catalog resolved it to.
import type { Pool } from '../db/pool.js';
import { IngestError } from '../errors.js';
import { parseTableName, qualifiedName, type TableName } from '../sink/names.js';
import { tableOid } from '../sink/prepareTarget.js';
import { checkResolvedSchema, checkTargetSchema, type NameSource } from '../sink/schemaPolicy.js';

const pathName: NameSource = { field: 'name', label: 'table' };

export interface OperationTable {
  /** `"schema"."table"`, quoted. */
  qualified: string;
  oid: number;
}

/** Throws INVALID_REQUEST, TARGET_FORBIDDEN (400) or TABLE_NOT_FOUND (404) naming `name`. */
export async function operationTable(pool: Pool, name: string, allowedSchemas: readonly string[]): Promise<OperationTable> {
  let table: TableName;
  try {
    table = parseTableName(name);
  } catch (err) {
    throw new IngestError('INVALID_REQUEST', `not a table name: ${(err as Error).message}`, { field: 'name' });
  }
  checkTargetSchema(table.schema, allowedSchemas, name, pathName);
  const qualified = qualifiedName(table);
  const oid = await tableOid(pool, qualified);
  if (oid === undefined) throw new IngestError('TABLE_NOT_FOUND', `no table ${name}`, { table: name });
  await checkResolvedSchema(pool, oid, allowedSchemas, name, pathName);
  return { qualified, oid };
}

// Gets the target ready before any byte moves: creates a missing table from target.create, distributes
// it (hash or reference) before loading, so rows are copied once, and checks that an existing table is
// distributed the way the job says. Runs in its own transaction under an advisory lock on the table
// name, so jobs preparing the same table at once do not race.
import type { Pool, PoolClient } from '../db/pool.js';
import { hasSqlState, isRetryableDbError } from '../db/sqlstate.js';
import { inTransaction, Rollback } from '../db/transaction.js';
import { IngestError } from '../errors.js';
import type { JobSpec } from '../jobs/spec.js';
import { citusVersion, distributionOf } from './citus.js';
import { parseTableName, qualifiedName, quoteIdent } from './names.js';
import { checkResolvedSchema, checkTargetSchema } from './schemaPolicy.js';

export interface PreparedTarget {
  oid: number | undefined;
  created: boolean;
  distributed: 'created' | 'existing' | 'none';
}

export async function tableOid(db: Pool | PoolClient, qualified: string): Promise<number | undefined> {
  const { rows } = await db.query<{ oid: number | null }>('SELECT to_regclass($1)::oid::int AS oid', [qualified]);
  return rows[0]?.oid ?? undefined;
}

/**
 * Checks every type in target.create against the database; throws naming the first unknown one. In
 * PostgreSQL 15, to_regtype answers NULL for a name it does not find but raises for one it cannot parse
 * (`text COLLATE C`, `setof text`) or whose modifier is out of range (`char(0)`, `numeric(0,5)`): outside
 * a transaction each type is then tried alone to name the one at fault. Pseudo-types (`void`, `record`)
 * name no column type and are refused too.
 */
export async function checkColumnTypes(db: Pool | PoolClient, spec: JobSpec, opts: { inTransaction?: boolean } = {}): Promise<void> {
  const columns = spec.target.create?.columns ?? [];
  if (columns.length === 0) return;
  const typeSql = `SELECT i::int FROM unnest($1::text[]) WITH ORDINALITY AS t(type, i)
     LEFT JOIN pg_catalog.pg_type p ON p.oid = to_regtype(t.type)
    WHERE p.oid IS NULL OR p.typtype = 'p' ORDER BY i LIMIT 1`;
  let bad: number | undefined;
  let raised: (Error & { code: string }) | undefined;
  try {
    bad = (await db.query<{ i: number }>(typeSql, [columns.map((c) => c.type)])).rows[0]?.i;
  } catch (err) {
    if (opts.inTransaction || !hasSqlState(err) || isRetryableDbError(err)) throw err;
    for (let k = 0; k < columns.length && bad === undefined; k++) {
      try {
        if ((await db.query<{ i: number }>(typeSql, [[columns[k]!.type]])).rows[0]) bad = k + 1;
      } catch (one) {
        if (!hasSqlState(one) || isRetryableDbError(one)) throw one;
        bad = k + 1;
        raised = one as Error & { code: string };
      }
    }
    if (bad === undefined) throw err;
  }
  if (bad !== undefined) {
    const i = bad - 1;
    const why = raised ? `PostgreSQL cannot read it as a type name (SQLSTATE ${raised.code}: ${raised.message})` : 'is not a column type this database knows';
    throw new IngestError('TARGET_DEFINITION_INVALID', `target.create.columns[${i}].type ${JSON.stringify(columns[i]!.type)}: ${why}; write a bare type name such as text, integer, numeric(12,2) or varchar(50)`, {
      field: `/target/create/columns/${i}/type`,
      reason: raised ? 'is not a valid type name (a bare type, its modifier in range; no constraint, collation or SETOF)' : 'is not a known PostgreSQL type',
    }, raised ? { cause: raised } : undefined);
  }
}

function createTableSql(qualified: string, spec: JobSpec): string {
  const create = spec.target.create!;
  // Types were matched against a strict pattern at the edge and checked with to_regtype just before.
  const parts = create.columns.map((c) => `${quoteIdent(c.name)} ${c.type}${c.notNull ? ' NOT NULL' : ''}`);
  if (create.primaryKey) parts.push(`PRIMARY KEY (${create.primaryKey.map(quoteIdent).join(', ')})`);
  for (const u of create.unique ?? []) parts.push(`UNIQUE (${u.map(quoteIdent).join(', ')})`);
  return `CREATE TABLE ${qualified} (\n  ${parts.join(',\n  ')}\n)`;
}

async function distribute(client: PoolClient, qualified: string, spec: JobSpec, existingData: boolean): Promise<void> {
  const d = spec.target.distribution!;
  if (d.reference) {
    await client.query('SELECT create_reference_table($1::regclass)', [qualified]);
  } else {
    const colocate = d.colocateWith ?? 'default';
    const colocateArg = colocate === 'default' || colocate === 'none' ? colocate : qualifiedName(parseTableName(colocate));
    await client.query(
      `SELECT create_distributed_table($1::regclass, $2, colocate_with => $3${d.shardCount ? ', shard_count => $4' : ''})`,
      d.shardCount ? [qualified, d.column, colocateArg, d.shardCount] : [qualified, d.column, colocateArg],
    );
  }
  // Distributing a filled table copies its rows to the shards; the coordinator's local copy goes.
  if (existingData) await client.query('SELECT truncate_local_data_after_distributing_table($1::regclass)', [qualified]);
}

/** `allowedSchemas`: TARGET_ALLOWED_SCHEMAS (empty: any schema but the reserved ones, see schemaPolicy.ts). */
export async function prepareTarget(pool: Pool, spec: JobSpec, allowedSchemas: readonly string[] = []): Promise<PreparedTarget> {
  const name = parseTableName(spec.target.table);
  const qualified = qualifiedName(name);
  const want = spec.target.distribution;
  try {
    return await inTransaction(pool, async (client): Promise<PreparedTarget> => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7245))', [qualified]);
      const citus = await citusVersion(client);
      if (want && !citus) {
        throw new IngestError(
          'CITUS_NOT_AVAILABLE',
          `target.distribution asks for a ${want.reference ? 'reference' : 'distributed'} table, but the database has no citus extension; ` +
            'point DATABASE_URL at a Citus coordinator, or drop target.distribution to load a plain table',
          { field: '/target/distribution' },
        );
      }
      let oid = await tableOid(client, qualified);
      // Checked again here, on what the catalog resolved, whatever was checked when the job was submitted.
      if (oid !== undefined) await checkResolvedSchema(client, oid, allowedSchemas, spec.target.table);
      else checkTargetSchema(name.schema, allowedSchemas, spec.target.table);
      let created = false;
      let distributed: PreparedTarget['distributed'] = 'none';
      if (oid === undefined) {
        if (!spec.target.create) throw new Rollback<PreparedTarget>({ oid: undefined, created: false, distributed: 'none' });
        await checkColumnTypes(client, spec, { inTransaction: true });
        await client.query(createTableSql(qualified, spec));
        created = true;
        if (want) {
          await distribute(client, qualified, spec, false);
          distributed = 'created';
        }
        oid = await tableOid(client, qualified);
      } else if (want && citus) {
        const have = await distributionOf(client, oid);
        const wantType = want.reference ? 'reference' : 'distributed';
        if (have.type === 'local') {
          if (!spec.target.distributeExisting) {
            throw new IngestError(
              'TARGET_NOT_DISTRIBUTED',
              `${spec.target.table} exists as a plain table; set target.distributeExisting to true to make it a ${wantType} table before loading`,
              { field: '/target/distributeExisting', table: spec.target.table },
            );
          }
          const filled = await client.query(`SELECT EXISTS (SELECT 1 FROM ${qualified}) AS filled`);
          await distribute(client, qualified, spec, filled.rows[0].filled as boolean);
          distributed = 'created';
        } else if (have.type !== wantType || (!want.reference && have.column !== want.column)) {
          const haveText = have.type === 'distributed' ? `distributed on ${JSON.stringify(have.column)}` : have.type;
          const wantText = want.reference ? 'a reference table' : `distributed on ${JSON.stringify(want.column)}`;
          throw new IngestError(
            'TARGET_DISTRIBUTION_MISMATCH',
            `${spec.target.table} is ${haveText}, but target.distribution asks for ${wantText}; fix target.distribution or load into another table`,
            { field: want.reference ? '/target/distribution/reference' : '/target/distribution/column', have: haveText, want: wantText },
          );
        } else {
          distributed = 'existing';
        }
      }
      return { oid, created, distributed };
    });
  } catch (err) {
    if (err instanceof IngestError) throw err;
    if (hasSqlState(err) && !isRetryableDbError(err)) {
      throw new IngestError('TARGET_DEFINITION_INVALID', `preparing ${spec.target.table} failed (SQLSTATE ${err.code}): ${err.message ?? ''}`, {
        field: '/target',
        sqlstate: err.code,
      }, { cause: err });
    }
    throw err;
  }
}

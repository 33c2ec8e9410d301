// target: where a job's rows go (a table, its columns, how to create and distribute it, which nodes a
// load enters at), as a TypeBox schema and its type.
import { Type, type Static } from '@sinclair/typebox';
import { columnList, columnName, Const, identPart, OneOf, StringEnum, typeNamePattern } from './schemaKit.js';
import { MAX_SHARD_COUNT, specDefaults } from './specDefaults.js';

const columnDefSchema = Type.Object(
  {
    name: columnName,
    /** A PostgreSQL type name, checked against the database before anything is created. */
    type: Type.String({ maxLength: 100, pattern: typeNamePattern }),
    notNull: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ColumnDef = Static<typeof columnDefSchema>;

const createSchema = Type.Object(
  {
    columns: Type.Array(columnDefSchema, { minItems: 1, maxItems: 1600 }),
    primaryKey: Type.Optional(columnList()),
    /** Further unique constraints, each a list of columns. */
    unique: Type.Optional(Type.Array(columnList(), { maxItems: 16 })),
  },
  {
    additionalProperties: false,
    description: 'Creates the table when it does not exist (before distributing it and before loading).',
  },
);
export type CreateSpec = Static<typeof createSchema>;

const distributionSchema = OneOf(
  [
    Type.Object(
      {
        column: columnName,
        shardCount: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SHARD_COUNT })),
        colocateWith: Type.Optional(Type.String({ minLength: 1, maxLength: 130, description: '"default", "none", or a distributed table to colocate with.' })),
        reference: Type.Optional(Const(false)),
      },
      { additionalProperties: false },
    ),
    Type.Object({ reference: Const(true) }, { additionalProperties: false }),
  ],
  { description: 'Citus: hash-distribute on a column ({column, shardCount, colocateWith}) or make a reference table ({reference: true}).' },
);
export type DistributionSpec = Static<typeof distributionSchema>;

export const targetSchema = Type.Object(
  {
    table: Type.String({
      pattern: `^${identPart}(?:\\.${identPart})?$`,
      description: 'Target table as schema.table (public when no schema is given).',
      examples: ['public.uk_price'],
    }),
    /**
     * CSV: the file's columns in order, or "header" to take them from the file's header record.
     * JSON Lines and Parquet (which name their fields): the table columns to fill, each from the field of
     * its name, or an object mapping field names to table columns ({"parquetColumn": "tableColumn"}).
     */
    columns: Type.Optional(
      OneOf(
        [
          Type.Array(columnName, { minItems: 1, maxItems: 1600, uniqueItems: true }),
          Const('header'),
          Type.Unsafe<Record<string, string>>({
            type: 'object',
            minProperties: 1,
            maxProperties: 1600,
            propertyNames: { minLength: 1, maxLength: 1000 },
            additionalProperties: columnName,
          }),
        ],
        {
          description: 'CSV: columns in the order the file holds them, or "header" to read them from the header record. JSON Lines and Parquet: the table columns to fill from the fields of the same name, or {"field": "column"}. All columns in table order when omitted.',
        },
      ),
    ),
    /** How to create the table when it does not exist. Without it a missing table fails the job. */
    create: Type.Optional(createSchema),
    /** Citus distribution: hash-distributed on a column, or a reference table. */
    distribution: Type.Optional(distributionSchema),
    /** Distribute an existing plain table before loading. Default false: such a table fails the job. */
    distributeExisting: Type.Optional(Type.Boolean({ default: specDefaults.target.distributeExisting })),
    /**
     * Citus: most connections a COPY opens to each worker, its shards there sharing them
     * (citus.max_adaptive_executor_pool_size for the load's transactions). Default 4.
     */
    connectionsPerWorker: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description: `Citus: most connections a COPY opens to each worker; the shards on a worker share them (default ${specDefaults.target.connectionsPerWorker}).`,
      }),
    ),
    /**
     * Citus: the nodes the load's transactions enter at (docs/entry-nodes.md). "coordinator": all of them
     * at the coordinator; "all": files (and chunks) in turn at the coordinator and every worker with
     * metadata; "auto" (the default): "all" when the target is distributed and every node is ready.
     */
    entryNodes: Type.Optional(
      StringEnum(['coordinator', 'all', 'auto'], {
        description: 'Citus: where the load enters the cluster. "coordinator": every COPY through the coordinator; "all": files and chunks in turn through the coordinator and every worker with metadata (the parsing and routing of rows spread over the nodes); "auto" (default): "all" for a distributed table when every node has metadata and answers, else "coordinator" (the run says why).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type TargetSpec = Static<typeof targetSchema>;

// The job spec, defined once: each part is a TypeBox schema, which is both the JSON schema POST /jobs
// validates against (and the OpenAPI document shows) and, through Static<>, the TypeScript type. The
// defaults live in specDefaults, which the schema, normalizeSpec and the loaders all read.
import { Type, type SchemaOptions, type Static, type StringOptions, type TSchema, type TUnion } from '@sinclair/typebox';
import { sourcePrefixes, sourceShapes } from '../sources/schemes.js';

const MiB = 1024 * 1024;

/** The formats a source object may be in (decode/registry.ts has a decoder for each). */
export const formatTypes = ['csv', 'ndjson', 'parquet'] as const;
export type FormatType = (typeof formatTypes)[number];

/**
 * What a spec means where it says nothing. normalizeSpec stores format, maxErrors and dryRun filled in
 * (and POST /jobs's schema fills the fields with a `default`); the rest stays undefined in a stored spec,
 * since specProblem tells "left out" from "set" (streams and chunkBytes apply only with atomicity
 * "chunk"), and the code that uses them falls back to these values.
 */
export const specDefaults = {
  source: {
    /** Seconds to wait for source.waitForMarker to appear. */
    markerTimeoutSeconds: 3600,
  },
  /** CSV as PostgreSQL's COPY reads it; format.escape defaults to format.quote (see defaultFormat). */
  format: { header: false, delimiter: ',', quote: '"', null: '', encoding: 'UTF8' },
  target: {
    distributeExisting: false,
    /**
     * Connections per worker a load's COPY opens (citus.max_adaptive_executor_pool_size for the load's
     * transactions). With Citus's own setting (16) a COPY opens one per shard placement, up to 16 per
     * worker: 32 busy backends for a 32-shard table on two workers, all of them competing for the same
     * cores. With 4 per worker (the shards on a worker taking turns on them) a server-side COPY of the
     * benchmark's 1,000,000 rows into 32 shards took a median 3.16 s instead of 3.55 s over 10 rounds on
     * the 2-core benchmark machine (bench/results/citus-1000000.json), and the two-phase commit has fewer
     * connections to go through.
     */
    connectionsPerWorker: 4,
    /** Citus: where the load's transactions enter the cluster (load/entryNodes.ts decides "auto"). */
    entryNodes: 'auto' as 'coordinator' | 'all' | 'auto',
  },
  maxErrors: 0,
  reload: false,
  mode: 'append',
  /** mode "merge": files of a prefix merge in name order. */
  order: 'name',
  /** Each file lands whole. Left undefined in a stored spec (replace and upsert store "job"). */
  atomicity: 'file',
  /** atomicity "chunk": parallel COPY streams per object. */
  streams: 2,
  /** atomicity "chunk": file bytes per chunk. */
  chunkBytes: 8 * MiB,
  concurrency: 1,
  dryRun: false,
  tableOperation: { strategy: 'by_shard_count', drainOnly: false },
} as const;

/**
 * Largest chunkBytes. Chunks are built in buffers of chunkBytes + 1 MiB, up to streams + 2 of them at
 * once. The old maximum (4 GiB) made one buffer larger than Node 20's Buffer limit
 * (buffer.constants.MAX_LENGTH, 4 GiB; raised only in Node 22), so it failed at run time; past 2^31
 * bytes some Buffer methods also misbehave (nodejs/node#35609). 256 MiB is far below both, and a chunk is
 * one transaction: larger ones only make a retry redo more.
 */
export const MAX_CHUNK_BYTES = 256 * MiB;
/** Most memory one object's chunk buffers may take: (streams + 2) x chunkBytes. */
export const MAX_CHUNK_MEMORY = 2 * 1024 * MiB;
/** Citus accepts shard counts from 1 to 64000 (citus.shard_count). */
export const MAX_SHARD_COUNT = 64_000;
// A type name as PostgreSQL writes one: words, an optional (n) or (p,s), optional [] suffixes.
export const typeNamePattern = '^[A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z_][A-Za-z0-9_]*){0,3}(?:\\(\\d{1,5}(?:, ?\\d{1,5})?\\))?(?: with(?:out)? time zone)?(?:\\[\\])*$';
// A table name as `schema.table` or `table`; each part an identifier, optionally double-quoted.
const identPart = '(?:[A-Za-z_][A-Za-z0-9_$]{0,62}|"(?:[^"]|""){1,63}")';

// --- JSON schema shapes TypeBox does not write the way the API wants them ---
// TypeBox writes a union of literals as anyOf, and a literal with a `type` beside its `const`; these keep
// the schema's `enum` (whose errors read "must be one of ...") and its plain `const` and `oneOf`.

/** A string that is one of `values`, as JSON schema's `enum`. */
function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** Exactly `value`, as a bare `const`. */
function Const<const T extends string | boolean>(value: T) {
  return Type.Unsafe<T>({ const: value });
}

/** Exactly one of `schemas`. */
function OneOf<T extends TSchema[]>(schemas: [...T], options: SchemaOptions = {}) {
  return Type.Unsafe<Static<TUnion<T>>>({ oneOf: schemas, ...options });
}

// --- the parts ---

// COPY takes one-byte delimiter, quote and escape characters: ASCII only.
const oneChar = (options: StringOptions = {}) => Type.String({ minLength: 1, maxLength: 1, pattern: '^[\\u0001-\\u007f]$', ...options });
const columnName = Type.String({ minLength: 1, maxLength: 63 });
const columnList = (options: SchemaOptions = {}) => Type.Array(columnName, { minItems: 1, maxItems: 32, uniqueItems: true, ...options });

const sourceSchema = Type.Object(
  {
    /** s3://bucket/key for one object, s3://bucket/prefix/ for every object below it (or another scheme's). */
    url: Type.String({
      pattern: `^(?:${sourcePrefixes().map((p) => p.replace(/[.+]/g, '\\$&')).join('|')})`,
      maxLength: 4096,
      description: `One object or every object under a prefix (a URL ending in /): ${sourceShapes()}.`,
      examples: ['s3://landing/price-paid/pp-2023.csv', 's3://landing/spark/output/'],
    }),
    /** With a prefix: a glob on the names below it (part-*.csv*). */
    pattern: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'With a prefix: a glob on names below it, e.g. part-*.csv*.', examples: ['part-*.csv*'] })),
    /** With a prefix: wait until this marker object exists below it (Spark's _SUCCESS) before listing. */
    waitForMarker: Type.Optional(
      Type.String({
        pattern: '^[^/]+$',
        maxLength: 200,
        description: 'With a prefix: wait for this object below it (e.g. _SUCCESS) before listing. A JSON manifest in it (S3A committers) names exactly the files to load.',
        examples: ['_SUCCESS'],
      }),
    ),
    /** How long to wait for the marker, in seconds. Default specDefaults.source.markerTimeoutSeconds. */
    markerTimeoutSeconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 604800, description: `How long to wait for the marker (default ${specDefaults.source.markerTimeoutSeconds}).` }),
    ),
  },
  { additionalProperties: false },
);

/** The format as stored: every field filled in but `type`. A request may leave any of them out. */
const formatSchema = Type.Object(
  {
    /**
     * csv, ndjson (JSON Lines) or parquet. Left out: each object's own name decides (.parquet is Parquet;
     * .jsonl, .ndjson and .json, gzipped or not, are JSON Lines; anything else is CSV).
     */
    type: Type.Optional(
      StringEnum(formatTypes, { description: 'csv, ndjson (JSON Lines) or parquet; left out, each object\'s name decides (.parquet, .jsonl/.ndjson/.json, else CSV).' }),
    ),
    /** The first record is a header and is not loaded. Default false. */
    header: Type.Boolean({ default: specDefaults.format.header }),
    /** Field delimiter, one character. Default ",". */
    delimiter: oneChar({ default: specDefaults.format.delimiter }),
    /** Quote character, one character. Default '"'. */
    quote: oneChar({ default: specDefaults.format.quote }),
    /** Escape character inside quoted fields, one character. Default: the quote character. */
    escape: oneChar({ description: 'Defaults to the quote character.' }),
    /** The string that stands for NULL. Default "" (an unquoted empty field). */
    null: Type.String({ maxLength: 64, default: specDefaults.format.null }),
    /** The file's character encoding, as PostgreSQL names it (UTF8, LATIN1, WIN1252...). Default UTF8. */
    encoding: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{1,30}$', default: specDefaults.format.encoding }),
  },
  { additionalProperties: false },
);
export type FormatSpec = Static<typeof formatSchema>;

/** The format of a spec that says nothing about it; its escape is its quote. */
export const defaultFormat: FormatSpec = {
  header: specDefaults.format.header,
  delimiter: specDefaults.format.delimiter,
  quote: specDefaults.format.quote,
  escape: specDefaults.format.quote,
  null: specDefaults.format.null,
  encoding: specDefaults.format.encoding,
};

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

const targetSchema = Type.Object(
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

/** Set only by POST /tables/:name/rebalance and /analyze: what to run on target.table. Not in POST /jobs. */
const tableOperationSchema = Type.Object(
  {
    kind: StringEnum(['rebalance', 'analyze']),
    /** rebalance: Citus's strategy. Default by_shard_count. */
    strategy: Type.Optional(StringEnum(['by_shard_count', 'by_disk_size'])),
    /** rebalance: only move shards off nodes marked shouldhaveshards = false. Default false. */
    drainOnly: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type TableOperation = Static<typeof tableOperationSchema>;

const operationValues = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 16, uniqueItems: true });
const mergeOperationSchema = Type.Object(
  {
    /** The operation column: a column of the file (listed in target.columns), stored in the table or not. */
    column: columnName,
    /** Values that delete the record's key (e.g. ["D"]). */
    delete: operationValues,
    /** Values that insert or update the record by key (e.g. ["A", "C"]). Any other value is a reject. */
    upsert: operationValues,
  },
  {
    additionalProperties: false,
    description: 'merge: the file column holding each record\'s operation, and its values that delete and that upsert; any other value is a reject.',
    examples: [{ column: 'record_status', delete: ['D'], upsert: ['A', 'C'] }],
  },
);
export type MergeOperation = Static<typeof mergeOperationSchema>;

/** Bad records tolerated per file before it rolls back. Default 0: the first bad record fails the file. */
const maxErrors = Type.Integer({
  minimum: 0,
  maximum: 1_000_000,
  default: specDefaults.maxErrors,
  description: 'Bad records tolerated per file; each is rejected with its line and the rest loads. Over it, the file rolls back whole.',
});
/** Validate against the target in a transaction that is always rolled back; report what would be rejected. */
const dryRun = Type.Boolean({
  default: specDefaults.dryRun,
  description: 'Load in a transaction that is always rolled back, and report what would be rejected.',
});

// The fields of a request, in the order the schema lists them (and reports their errors in).
const jobSpecFields = {
  source: sourceSchema,
  format: Type.Optional(Type.Partial(formatSchema)),
  target: targetSchema,
  maxErrors: Type.Optional(maxErrors),
  /** Optional: the most rejected records as a share of the file's records (0 to 1). */
  maxErrorRatio: Type.Optional(
    Type.Number({ minimum: 0, maximum: 1, description: 'Also fail a file when rejects exceed this share of its records (checked at the end of the file).' }),
  ),
  /** Where to POST the job's final state. */
  notify: Type.Optional(
    Type.Object(
      { url: Type.String({ pattern: '^https?://', maxLength: 2000, description: 'Receives a POST of the final job (signed with NOTIFY_SECRET), retried with backoff.' }) },
      { additionalProperties: false },
    ),
  ),
  /** Load objects already in the ledger for this target again. Default false. */
  reload: Type.Optional(Type.Boolean({ default: specDefaults.reload, description: 'Load objects the ledger already holds for this target again, on purpose.' })),
  /**
   * append (default); replace: build the table aside and swap it in; upsert: insert or update by `key`;
   * merge: apply each file's add / change / delete records by `key` and `operation`, file by file.
   */
  mode: Type.Optional(
    StringEnum(['append', 'replace', 'upsert', 'merge'], {
      default: specDefaults.mode,
      description: 'append rows; replace the table atomically (built aside, swapped in); upsert by key (INSERT ... ON CONFLICT DO UPDATE); merge each file\'s add/change/delete records by key and operation, one file after another. replace and upsert imply atomicity "job"; merge commits file by file.',
    }),
  ),
  /** upsert and merge: the columns of a key of the target (on Citus including the distribution column). */
  key: Type.Optional(columnList({ description: 'upsert and merge: a key of the target.' })),
  // --- merge mode (issue 15) ---
  /** merge: the file column that says what each record does, and the values meaning delete and upsert. */
  operation: Type.Optional(mergeOperationSchema),
  /** merge: the order files of a prefix are merged in: "name" (default) or "lastModified". */
  order: Type.Optional(StringEnum(['name', 'lastModified'], { description: `merge: the order the files of a prefix merge in (default "${specDefaults.order}").` })),
  // --- table operations and afterLoad (issue 15) ---
  /** After the load: ANALYZE the target. Default: analyze a table the job created, not an existing one. */
  afterLoad: Type.Optional(
    Type.Object(
      { analyze: Type.Optional(Type.Boolean({ description: 'ANALYZE the target after the load (default: only a table the job created).' })) },
      { additionalProperties: false },
    ),
  ),
  /** Unit that lands whole: "file" (default), "chunk" (parallel streams, chunk by chunk), or "job". */
  atomicity: Type.Optional(
    StringEnum(['file', 'chunk', 'job'], {
      description: 'What lands whole: each file (default); each chunk of a large file, loaded over parallel streams; or the whole job.',
    }),
  ),
  /** With atomicity "chunk": parallel COPY streams per object. Default 2. */
  streams: Type.Optional(Type.Integer({ minimum: 1, maximum: 32, description: `atomicity "chunk": parallel COPY streams per object (default ${specDefaults.streams}).` })),
  /** With atomicity "chunk": bytes of the file per chunk (cut at the next record end). Default 8 MiB. */
  chunkBytes: Type.Optional(
    Type.Integer({
      minimum: 65536,
      maximum: MAX_CHUNK_BYTES,
      description: `atomicity "chunk": file bytes per chunk (default ${specDefaults.chunkBytes / MiB} MiB, at most ${MAX_CHUNK_BYTES / MiB} MiB; (streams + 2) x chunkBytes at most ${MAX_CHUNK_MEMORY / 1024 / MiB} GiB).`,
    }),
  ),
  /** Objects of this job loaded at once. Default 1. */
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 32, default: specDefaults.concurrency, description: 'Objects of this job loaded at once.' })),
  dryRun: Type.Optional(dryRun),
};

/** What POST /jobs (and a schedule's job) accepts. */
export const jobSpecSchema = Type.Object(jobSpecFields, {
  $id: 'JobSpec',
  additionalProperties: false,
  examples: [{ source: { url: 's3://landing/price-paid/pp-2023.csv' }, format: defaultFormat, target: { table: 'public.uk_price' }, maxErrors: specDefaults.maxErrors }],
});
/** A request body that passed jobSpecSchema (Ajv has filled in the fields with a `default`). */
export type JobSpecInput = Static<typeof jobSpecSchema>;

// The spec as normalizeSpec stores it: the same fields with format, maxErrors and dryRun filled in, and
// the table operation only the /tables routes set. A type only: nothing validates against it.
const storedSpecSchema = Type.Object({
  ...jobSpecFields,
  format: formatSchema,
  maxErrors,
  dryRun,
  /**
   * Set only by POST /tables/:name/rebalance and /analyze (not accepted by POST /jobs): the job runs this
   * operation on target.table instead of loading files.
   */
  tableOperation: Type.Optional(tableOperationSchema),
});
export type JobSpec = Static<typeof storedSpecSchema>;

// The job spec, defined once: each part is a TypeBox schema, which is both the JSON schema POST /jobs
// validates against (and the OpenAPI document shows) and, through Static<>, the TypeScript type. The
// defaults live in specDefaults, which the schema, normalizeSpec and the loaders all read.
import { Type, type SchemaOptions, type Static, type StringOptions, type TSchema, type TUnion } from '@sinclair/typebox';
import { sourcePrefixes, sourceShapes } from '../sources/schemes.js';
import { columnList, columnName, Const, oneChar, OneOf, StringEnum } from './schemaKit.js';
import { formatTypes, MAX_CHUNK_BYTES, MAX_CHUNK_MEMORY, MiB, specDefaults } from './specDefaults.js';
import { targetSchema } from './targetSchema.js';

export * from './specDefaults.js';
export { typeNamePattern } from './schemaKit.js';
export type { ColumnDef, CreateSpec, DistributionSpec, TargetSpec } from './targetSchema.js';

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

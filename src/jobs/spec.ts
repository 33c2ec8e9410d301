// The job spec: what a user submits to POST /jobs, its JSON schema (validated at the edge), and the
// defaults applied before a job is stored.
import { sourcePrefixes, sourceShapes } from '../sources/schemes.js';

/** The formats a source object may be in (decode/registry.ts has a decoder for each). */
export const formatTypes = ['csv', 'ndjson', 'parquet'] as const;
export type FormatType = (typeof formatTypes)[number];

export interface FormatSpec {
  /**
   * csv, ndjson (JSON Lines) or parquet. Left out: each object's own name decides (.parquet is Parquet;
   * .jsonl, .ndjson and .json, gzipped or not, are JSON Lines; anything else is CSV).
   */
  type?: FormatType;
  /** The first record is a header and is not loaded. Default false. */
  header: boolean;
  /** Field delimiter, one character. Default ",". */
  delimiter: string;
  /** Quote character, one character. Default '"'. */
  quote: string;
  /** Escape character inside quoted fields, one character. Default: the quote character. */
  escape: string;
  /** The string that stands for NULL. Default "" (an unquoted empty field). */
  null: string;
  /** The file's character encoding, as PostgreSQL names it (UTF8, LATIN1, WIN1252...). Default UTF8. */
  encoding: string;
}

export interface ColumnDef {
  name: string;
  /** A PostgreSQL type name, checked against the database before anything is created. */
  type: string;
  notNull?: boolean;
}

export interface CreateSpec {
  columns: ColumnDef[];
  primaryKey?: string[];
  /** Further unique constraints, each a list of columns. */
  unique?: string[][];
}

export type DistributionSpec =
  | { column: string; shardCount?: number; colocateWith?: string; reference?: false }
  | { reference: true };

export interface TargetSpec {
  table: string;
  /**
   * CSV: the file's columns in order, or "header" to take them from the file's header record.
   * JSON Lines and Parquet (which name their fields): the table columns to fill, each from the field of
   * its name, or an object mapping field names to table columns ({"parquetColumn": "tableColumn"}).
   */
  columns?: string[] | 'header' | Record<string, string>;
  /** How to create the table when it does not exist. Without it a missing table fails the job. */
  create?: CreateSpec;
  /** Citus distribution: hash-distributed on a column, or a reference table. */
  distribution?: DistributionSpec;
  /** Distribute an existing plain table before loading. Default false: such a table fails the job. */
  distributeExisting?: boolean;
  /**
   * Citus: most connections a COPY opens to each worker, its shards there sharing them
   * (citus.max_adaptive_executor_pool_size for the load's transactions). Default 4.
   */
  connectionsPerWorker?: number;
}

export interface TableOperation {
  kind: 'rebalance' | 'analyze';
  /** rebalance: Citus's strategy. Default by_shard_count. */
  strategy?: 'by_shard_count' | 'by_disk_size';
  /** rebalance: only move shards off nodes marked shouldhaveshards = false. Default false. */
  drainOnly?: boolean;
}

export interface MergeOperation {
  /** The operation column: a column of the file (listed in target.columns), stored in the table or not. */
  column: string;
  /** Values that delete the record's key (e.g. ["D"]). */
  delete: string[];
  /** Values that insert or update the record by key (e.g. ["A", "C"]). Any other value is a reject. */
  upsert: string[];
}

export interface JobSpec {
  source: {
    /** s3://bucket/key for one object, s3://bucket/prefix/ for every object below it. */
    url: string;
    /** With a prefix: a glob on the names below it (part-*.csv*). */
    pattern?: string;
    /** With a prefix: wait until this marker object exists below it (Spark's _SUCCESS) before listing. */
    waitForMarker?: string;
    /** How long to wait for the marker. Default 3600 s. */
    markerTimeoutSeconds?: number;
  };
  /** Where to POST the job's final state. */
  notify?: { url: string };
  format: FormatSpec;
  target: TargetSpec;
  /** Bad records tolerated per file before it rolls back. Default 0: the first bad record fails the file. */
  maxErrors: number;
  /** Optional: the most rejected records as a share of the file's records (0 to 1). */
  maxErrorRatio?: number;
  /** Objects of this job loaded at once. Default 1. */
  concurrency?: number;
  /** Load objects already in the ledger for this target again. Default false. */
  reload?: boolean;
  /**
   * append (default); replace: build the table aside and swap it in; upsert: insert or update by `key`;
   * merge: apply each file's add / change / delete records by `key` and `operation`, file by file.
   */
  mode?: 'append' | 'replace' | 'upsert' | 'merge';
  /** upsert and merge: the columns of a key of the target (on Citus including the distribution column). */
  key?: string[];
  // --- merge mode (issue 15) ---
  /** merge: the file column that says what each record does, and the values meaning delete and upsert. */
  operation?: MergeOperation;
  /** merge: the order files of a prefix are merged in: "name" (default) or "lastModified". */
  order?: 'name' | 'lastModified';
  // --- table operations and afterLoad (issue 15) ---
  /** After the load: ANALYZE the target. Default: analyze a table the job created, not an existing one. */
  afterLoad?: { analyze?: boolean };
  /**
   * Set only by POST /tables/:name/rebalance and /analyze (not accepted by POST /jobs): the job runs this
   * operation on target.table instead of loading files.
   */
  tableOperation?: TableOperation;
  /** Unit that lands whole: "file" (default), "chunk" (parallel streams, chunk by chunk), or "job". */
  atomicity?: 'file' | 'chunk' | 'job';
  /** With atomicity "chunk": parallel COPY streams per object. Default 2. */
  streams?: number;
  /** With atomicity "chunk": bytes of the file per chunk (cut at the next record end). Default 8 MiB. */
  chunkBytes?: number;
  /** Validate against the target in a transaction that is always rolled back; report what would be rejected. */
  dryRun: boolean;
}

export const defaultFormat: FormatSpec = {
  header: false,
  delimiter: ',',
  quote: '"',
  escape: '"',
  null: '',
  encoding: 'UTF8',
};

// COPY takes one-byte delimiter, quote and escape characters: ASCII only.
const oneChar = { type: 'string', minLength: 1, maxLength: 1, pattern: '^[\\u0001-\\u007f]$' } as const;
/**
 * Largest chunkBytes. Chunks are built in buffers of chunkBytes + 1 MiB, up to streams + 2 of them at
 * once. The old maximum (4 GiB) made one buffer larger than Node 20's Buffer limit
 * (buffer.constants.MAX_LENGTH, 4 GiB; raised only in Node 22), so it failed at run time; past 2^31
 * bytes some Buffer methods also misbehave (nodejs/node#35609). 256 MiB is far below both, and a chunk is
 * one transaction: larger ones only make a retry redo more.
 */
export const MAX_CHUNK_BYTES = 256 * 1024 * 1024;
/** Most memory one object's chunk buffers may take: (streams + 2) x chunkBytes. */
export const MAX_CHUNK_MEMORY = 2 * 1024 * 1024 * 1024;
/** Citus accepts shard counts from 1 to 64000 (citus.shard_count). */
export const MAX_SHARD_COUNT = 64_000;
// A type name as PostgreSQL writes one: words, an optional (n) or (p,s), optional [] suffixes.
export const typeNamePattern = '^[A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z_][A-Za-z0-9_]*){0,3}(?:\\(\\d{1,5}(?:, ?\\d{1,5})?\\))?(?: with(?:out)? time zone)?(?:\\[\\])*$';
const columnName = { type: 'string', minLength: 1, maxLength: 63 } as const;
const columnList = { type: 'array', minItems: 1, maxItems: 32, uniqueItems: true, items: columnName } as const;
// A table name as `schema.table` or `table`; each part an identifier, optionally double-quoted.
const identPart = '(?:[A-Za-z_][A-Za-z0-9_$]{0,62}|"(?:[^"]|""){1,63}")';

export const jobSpecSchema = {
  $id: 'JobSpec',
  type: 'object',
  additionalProperties: false,
  required: ['source', 'target'],
  properties: {
    source: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: {
          type: 'string',
          pattern: `^(?:${sourcePrefixes().map((p) => p.replace(/[.+]/g, '\\$&')).join('|')})`,
          maxLength: 4096,
          description: `One object or every object under a prefix (a URL ending in /): ${sourceShapes()}.`,
          examples: ['s3://landing/price-paid/pp-2023.csv', 's3://landing/spark/output/'],
        },
        pattern: { type: 'string', minLength: 1, maxLength: 200, description: 'With a prefix: a glob on names below it, e.g. part-*.csv*.', examples: ['part-*.csv*'] },
        waitForMarker: {
          type: 'string',
          pattern: '^[^/]+$',
          maxLength: 200,
          description: 'With a prefix: wait for this object below it (e.g. _SUCCESS) before listing. A JSON manifest in it (S3A committers) names exactly the files to load.',
          examples: ['_SUCCESS'],
        },
        markerTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 604800, description: 'How long to wait for the marker (default 3600).' },
      },
    },
    format: {
      type: 'object',
      additionalProperties: false,
      properties: {
        type: { type: 'string', enum: [...formatTypes], description: 'csv, ndjson (JSON Lines) or parquet; left out, each object\'s name decides (.parquet, .jsonl/.ndjson/.json, else CSV).' },
        header: { type: 'boolean', default: false },
        delimiter: { ...oneChar, default: ',' },
        quote: { ...oneChar, default: '"' },
        escape: { ...oneChar, description: 'Defaults to the quote character.' },
        null: { type: 'string', maxLength: 64, default: '' },
        encoding: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_-]{1,30}$', default: 'UTF8' },
      },
    },
    target: {
      type: 'object',
      additionalProperties: false,
      required: ['table'],
      properties: {
        table: {
          type: 'string',
          pattern: `^${identPart}(?:\\.${identPart})?$`,
          description: 'Target table as schema.table (public when no schema is given).',
          examples: ['public.uk_price'],
        },
        columns: {
          oneOf: [
            { type: 'array', minItems: 1, maxItems: 1600, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 63 } },
            { const: 'header' },
            {
              type: 'object',
              minProperties: 1,
              maxProperties: 1600,
              propertyNames: { minLength: 1, maxLength: 1000 },
              additionalProperties: { type: 'string', minLength: 1, maxLength: 63 },
            },
          ],
          description: 'CSV: columns in the order the file holds them, or "header" to read them from the header record. JSON Lines and Parquet: the table columns to fill from the fields of the same name, or {"field": "column"}. All columns in table order when omitted.',
        },
        create: {
          type: 'object',
          additionalProperties: false,
          required: ['columns'],
          description: 'Creates the table when it does not exist (before distributing it and before loading).',
          properties: {
            columns: {
              type: 'array',
              minItems: 1,
              maxItems: 1600,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['name', 'type'],
                properties: {
                  name: columnName,
                  type: { type: 'string', maxLength: 100, pattern: typeNamePattern },
                  notNull: { type: 'boolean' },
                },
              },
            },
            primaryKey: columnList,
            unique: { type: 'array', maxItems: 16, items: columnList },
          },
        },
        distribution: {
          oneOf: [
            {
              type: 'object',
              additionalProperties: false,
              required: ['column'],
              properties: {
                column: columnName,
                shardCount: { type: 'integer', minimum: 1, maximum: MAX_SHARD_COUNT },
                colocateWith: { type: 'string', minLength: 1, maxLength: 130, description: '"default", "none", or a distributed table to colocate with.' },
                reference: { const: false },
              },
            },
            {
              type: 'object',
              additionalProperties: false,
              required: ['reference'],
              properties: { reference: { const: true } },
            },
          ],
          description: 'Citus: hash-distribute on a column ({column, shardCount, colocateWith}) or make a reference table ({reference: true}).',
        },
        distributeExisting: { type: 'boolean', default: false },
        connectionsPerWorker: {
          type: 'integer',
          minimum: 1,
          maximum: 64,
          description: 'Citus: most connections a COPY opens to each worker; the shards on a worker share them (default 4).',
        },
      },
    },
    maxErrors: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: 'Bad records tolerated per file; each is rejected with its line and the rest loads. Over it, the file rolls back whole.',
    },
    maxErrorRatio: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'Also fail a file when rejects exceed this share of its records (checked at the end of the file).',
    },
    notify: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: { url: { type: 'string', pattern: '^https?://', maxLength: 2000, description: 'Receives a POST of the final job (signed with NOTIFY_SECRET), retried with backoff.' } },
    },
    reload: { type: 'boolean', default: false, description: 'Load objects the ledger already holds for this target again, on purpose.' },
    mode: {
      type: 'string',
      enum: ['append', 'replace', 'upsert', 'merge'],
      default: 'append',
      description: 'append rows; replace the table atomically (built aside, swapped in); upsert by key (INSERT ... ON CONFLICT DO UPDATE); merge each file\'s add/change/delete records by key and operation, one file after another. replace and upsert imply atomicity "job"; merge commits file by file.',
    },
    key: { type: 'array', minItems: 1, maxItems: 32, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 63 }, description: 'upsert and merge: a key of the target.' },
    // --- merge mode (issue 15) ---
    operation: {
      type: 'object',
      additionalProperties: false,
      required: ['column', 'delete', 'upsert'],
      description: 'merge: the file column holding each record\'s operation, and its values that delete and that upsert; any other value is a reject.',
      properties: {
        column: columnName,
        delete: { type: 'array', minItems: 1, maxItems: 16, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 } },
        upsert: { type: 'array', minItems: 1, maxItems: 16, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 } },
      },
      examples: [{ column: 'record_status', delete: ['D'], upsert: ['A', 'C'] }],
    },
    order: { type: 'string', enum: ['name', 'lastModified'], description: 'merge: the order the files of a prefix merge in (default "name").' },
    // --- table operations and afterLoad (issue 15) ---
    afterLoad: {
      type: 'object',
      additionalProperties: false,
      properties: { analyze: { type: 'boolean', description: 'ANALYZE the target after the load (default: only a table the job created).' } },
    },
    atomicity: {
      type: 'string',
      enum: ['file', 'chunk', 'job'],
      description: 'What lands whole: each file (default); each chunk of a large file, loaded over parallel streams; or the whole job.',
    },
    streams: { type: 'integer', minimum: 1, maximum: 32, description: 'atomicity "chunk": parallel COPY streams per object (default 2).' },
    chunkBytes: {
      type: 'integer',
      minimum: 65536,
      maximum: MAX_CHUNK_BYTES,
      description: 'atomicity "chunk": file bytes per chunk (default 8 MiB, at most 256 MiB; (streams + 2) x chunkBytes at most 2 GiB).',
    },
    concurrency: { type: 'integer', minimum: 1, maximum: 32, default: 1, description: 'Objects of this job loaded at once.' },
    dryRun: {
      type: 'boolean',
      default: false,
      description: 'Load in a transaction that is always rolled back, and report what would be rejected.',
    },
  },
  examples: [
    {
      source: { url: 's3://landing/price-paid/pp-2023.csv' },
      format: { header: false, delimiter: ',', quote: '"', escape: '"', null: '', encoding: 'UTF8' },
      target: { table: 'public.uk_price' },
      maxErrors: 0,
    },
  ],
} as const;

/** Fills in the defaults of a spec that passed the schema. */
export function normalizeSpec(input: unknown): JobSpec {
  const raw = input as Partial<JobSpec> & { format?: Partial<FormatSpec> };
  const format: FormatSpec = { ...defaultFormat, ...(raw.format ?? {}) };
  if (raw.format?.escape === undefined) format.escape = format.quote;
  const spec: JobSpec = {
    source: {
      url: raw.source!.url,
      ...(raw.source!.pattern ? { pattern: raw.source!.pattern } : {}),
      ...(raw.source!.waitForMarker ? { waitForMarker: raw.source!.waitForMarker } : {}),
      ...(raw.source!.markerTimeoutSeconds ? { markerTimeoutSeconds: raw.source!.markerTimeoutSeconds } : {}),
    },
    ...(raw.notify ? { notify: { url: raw.notify.url } } : {}),
    format,
    target: { ...raw.target!, table: raw.target!.table },
    maxErrors: raw.maxErrors ?? 0,
    ...(raw.maxErrorRatio !== undefined ? { maxErrorRatio: raw.maxErrorRatio } : {}),
    dryRun: raw.dryRun ?? false,
    ...(raw.reload ? { reload: true } : {}),
    ...(raw.mode ? { mode: raw.mode } : {}),
    ...(raw.key ? { key: [...raw.key] } : {}),
    // --- merge mode (issue 15) ---
    ...(raw.operation ? { operation: { column: raw.operation.column, delete: [...raw.operation.delete], upsert: [...raw.operation.upsert] } } : {}),
    ...(raw.order ? { order: raw.order } : {}),
    // --- table operations and afterLoad (issue 15) ---
    ...(raw.afterLoad ? { afterLoad: { ...raw.afterLoad } } : {}),
    // replace and upsert publish the whole job at once: that is their default unit.
    ...(raw.atomicity ? { atomicity: raw.atomicity } : raw.mode === 'replace' || raw.mode === 'upsert' ? { atomicity: 'job' as const } : {}),
    ...(raw.streams ? { streams: raw.streams } : {}),
    ...(raw.chunkBytes ? { chunkBytes: raw.chunkBytes } : {}),
    ...(raw.concurrency ? { concurrency: raw.concurrency } : {}),
  };
  return spec;
}

/**
 * Checks what a JSON schema cannot: names that must refer to each other. Returns the first problem as
 * a field (JSON pointer) and a reason, or undefined when the spec holds together.
 */
export function specProblem(spec: JobSpec): { field: string; reason: string } | undefined {
  const { create, distribution, columns } = spec.target;
  const badText = unstorableString(spec, '');
  if (badText) return badText;
  const formatIssue = formatProblem(spec.format);
  if (formatIssue) return formatIssue;
  if (spec.chunkBytes !== undefined && ((spec.streams ?? 2) + 2) * spec.chunkBytes > MAX_CHUNK_MEMORY) {
    return { field: '/chunkBytes', reason: `with ${spec.streams ?? 2} streams needs (streams + 2) x chunkBytes of buffers, over the 2 GiB a load may take: lower chunkBytes or streams` };
  }
  if (spec.source.waitForMarker && !spec.source.url.endsWith('/')) return { field: '/source/waitForMarker', reason: 'applies only to a prefix (a source.url ending in /)' };
  if (spec.source.pattern && !spec.source.url.endsWith('/')) return { field: '/source/pattern', reason: 'applies only to a prefix (a source.url ending in /)' };
  if (spec.mode === 'upsert' && !spec.key) return { field: '/key', reason: 'is required with mode "upsert"' };
  if (spec.key && spec.mode !== 'upsert' && spec.mode !== 'merge') return { field: '/key', reason: 'applies only with mode "upsert" or "merge"' };
  const mergeProblem = mergeSpecProblem(spec);
  if (mergeProblem) return mergeProblem;
  if (spec.mode && spec.mode !== 'append' && spec.mode !== 'merge' && spec.atomicity !== 'job') {
    return { field: '/atomicity', reason: `mode "${spec.mode}" publishes the whole job at once: atomicity must be "job" (or left out)` };
  }
  if (spec.atomicity === 'job' && spec.dryRun) return { field: '/dryRun', reason: 'a dry run checks files one by one: use atomicity "file"' };
  if ((spec.streams !== undefined || spec.chunkBytes !== undefined) && spec.atomicity !== 'chunk') {
    return { field: spec.streams !== undefined ? '/streams' : '/chunkBytes', reason: 'applies only with atomicity "chunk"' };
  }
  if (spec.atomicity === 'chunk' && spec.dryRun) return { field: '/dryRun', reason: 'a dry run checks whole files: use atomicity "file"' };
  const named = spec.format.type === 'ndjson' || spec.format.type === 'parquet';
  if (columns !== undefined && columns !== 'header' && !Array.isArray(columns) && !named) {
    return { field: '/target/columns', reason: 'a map from field names to columns needs format.type "ndjson" or "parquet" (CSV columns have no names to map)' };
  }
  if (columns === 'header' && named) return { field: '/target/columns', reason: `"header" is for CSV; ${spec.format.type} names its fields itself (list the columns, or leave target.columns out)` };
  if (columns === 'header' && !spec.format.header) {
    return { field: '/target/columns', reason: '"header" needs format.header: true' };
  }
  if (distribution && !distribution.reference && distribution.shardCount && distribution.colocateWith && !['default', 'none'].includes(distribution.colocateWith)) {
    return { field: '/target/distribution/shardCount', reason: 'cannot be set together with colocateWith naming a table: the table colocated with decides the shard count' };
  }
  if (create) {
    const names = create.columns.map((c) => c.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) return { field: '/target/create/columns', reason: `column ${JSON.stringify(dup)} is defined twice` };
    const known = new Set(names);
    const keys: Array<[string, string[]]> = [];
    if (create.primaryKey) keys.push(['/target/create/primaryKey', create.primaryKey]);
    (create.unique ?? []).forEach((u, i) => keys.push([`/target/create/unique/${i}`, u]));
    for (const [field, cols] of keys) {
      const missing = cols.find((c) => !known.has(c));
      if (missing) return { field, reason: `names ${JSON.stringify(missing)}, which is not in target.create.columns` };
    }
    if (Array.isArray(columns)) {
      const missing = columns.find((c) => !known.has(c));
      if (missing) return { field: '/target/columns', reason: `names ${JSON.stringify(missing)}, which is not in target.create.columns` };
    }
    if (distribution && !distribution.reference) {
      if (!known.has(distribution.column)) {
        return { field: '/target/distribution/column', reason: `${JSON.stringify(distribution.column)} is not in target.create.columns` };
      }
      for (const [field, cols] of keys) {
        if (!cols.includes(distribution.column)) {
          return {
            field,
            reason: `must include the distribution column ${JSON.stringify(distribution.column)}: Citus enforces uniqueness only within a shard`,
          };
        }
      }
    }
  }
  return undefined;
}

// A NUL cannot be stored in PostgreSQL text or jsonb, and a lone UTF-16 surrogate is not a character:
// either would fail deep inside a query instead of here.
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first string anywhere in the spec that PostgreSQL cannot store, with its JSON pointer. */
function unstorableString(value: unknown, at: string): { field: string; reason: string } | undefined {
  if (typeof value === 'string') {
    if (!unstorable.test(value)) return undefined;
    return { field: at, reason: 'holds a NUL character (\\u0000) or a lone UTF-16 surrogate, which PostgreSQL cannot store' };
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    const problem = unstorableString(v, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (problem) return problem;
  }
  return undefined;
}

/** What COPY itself refuses in a CSV format, caught before a job is stored rather than as a bad file. */
function formatProblem(f: FormatSpec): { field: string; reason: string } | undefined {
  for (const name of ['delimiter', 'quote', 'escape'] as const) {
    if (f[name] === '\n' || f[name] === '\r') return { field: `/format/${name}`, reason: 'cannot be a line break: it ends records' };
  }
  if (f.delimiter === f.quote) return { field: '/format/quote', reason: `must differ from format.delimiter (both ${JSON.stringify(f.delimiter)})` };
  if (f.null.includes(f.delimiter)) return { field: '/format/null', reason: `must not contain format.delimiter ${JSON.stringify(f.delimiter)}` };
  if (f.null.includes(f.quote)) return { field: '/format/null', reason: `must not contain format.quote ${JSON.stringify(f.quote)}` };
  if (/[\r\n]/.test(f.null)) return { field: '/format/null', reason: 'cannot contain a line break' };
  return undefined;
}

// --- merge mode (issue 15) ---
/** The rules of mode "merge" and its fields, as specProblem reports them. */
function mergeSpecProblem(spec: JobSpec): { field: string; reason: string } | undefined {
  if (spec.mode !== 'merge') {
    if (spec.operation) return { field: '/operation', reason: 'applies only with mode "merge"' };
    if (spec.order) return { field: '/order', reason: 'applies only with mode "merge"' };
    return undefined;
  }
  if (!spec.key) return { field: '/key', reason: 'is required with mode "merge"' };
  if (!spec.operation) return { field: '/operation', reason: 'is required with mode "merge" (e.g. {"column": "record_status", "delete": ["D"], "upsert": ["A", "C"]})' };
  if (spec.atomicity !== undefined && spec.atomicity !== 'file') {
    return { field: '/atomicity', reason: 'mode "merge" commits each file with its ledger row, in order: atomicity must be "file" (or left out)' };
  }
  if (spec.dryRun) return { field: '/dryRun', reason: 'is not supported with mode "merge"' };
  const both = spec.operation.delete.find((v) => spec.operation!.upsert.includes(v));
  if (both !== undefined) return { field: '/operation/upsert', reason: `${JSON.stringify(both)} is listed both as delete and as upsert` };
  if (spec.key.includes(spec.operation.column)) return { field: '/operation/column', reason: 'the operation column cannot be part of the key' };
  const { columns, create } = spec.target;
  if (columns === 'header') return { field: '/target/columns', reason: 'mode "merge" needs the file\'s columns listed (what a merge updates must be known before the file is read), not "header"' };
  if (Array.isArray(columns)) {
    if (!columns.includes(spec.operation.column)) return { field: '/operation/column', reason: `${JSON.stringify(spec.operation.column)} is not in target.columns (the file's columns)` };
    const missing = spec.key.find((k) => !columns.includes(k));
    if (missing) return { field: '/key', reason: `names ${JSON.stringify(missing)}, which is not in target.columns (the file's columns)` };
  }
  if (create) {
    const known = new Set(create.columns.map((c) => c.name));
    const missing = spec.key.find((k) => !known.has(k));
    if (missing) return { field: '/key', reason: `names ${JSON.stringify(missing)}, which is not in target.create.columns` };
  }
  return undefined;
}

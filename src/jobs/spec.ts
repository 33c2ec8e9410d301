// What happens to a job spec between the schema and the database: the defaults filled in before it is
// stored, and the checks a JSON schema cannot make. The spec itself (schema, types, defaults) is in
// specSchema.ts; it is re-exported here for the modules that import the spec from this one place.
import { defaultFormat, MAX_CHUNK_MEMORY, specDefaults, type FormatSpec, type JobSpec, type JobSpecInput } from './specSchema.js';

export {
  defaultFormat,
  formatTypes,
  jobSpecSchema,
  MAX_CHUNK_BYTES,
  MAX_CHUNK_MEMORY,
  MAX_SHARD_COUNT,
  specDefaults,
  typeNamePattern,
} from './specSchema.js';
export type {
  ColumnDef,
  CreateSpec,
  DistributionSpec,
  FormatSpec,
  FormatType,
  JobSpec,
  JobSpecInput,
  MergeOperation,
  TableOperation,
  TargetSpec,
} from './specSchema.js';

/** Fills in the defaults of a spec that passed the schema. */
export function normalizeSpec(input: unknown): JobSpec {
  const raw = input as JobSpecInput;
  const format: FormatSpec = { ...defaultFormat, ...(raw.format ?? {}) };
  if (raw.format?.escape === undefined) format.escape = format.quote;
  const spec: JobSpec = {
    source: {
      url: raw.source.url,
      ...(raw.source.pattern ? { pattern: raw.source.pattern } : {}),
      ...(raw.source.waitForMarker ? { waitForMarker: raw.source.waitForMarker } : {}),
      ...(raw.source.markerTimeoutSeconds ? { markerTimeoutSeconds: raw.source.markerTimeoutSeconds } : {}),
    },
    ...(raw.notify ? { notify: { url: raw.notify.url } } : {}),
    format,
    target: { ...raw.target, table: raw.target.table },
    maxErrors: raw.maxErrors ?? specDefaults.maxErrors,
    ...(raw.maxErrorRatio !== undefined ? { maxErrorRatio: raw.maxErrorRatio } : {}),
    dryRun: raw.dryRun ?? specDefaults.dryRun,
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
  if (spec.chunkBytes !== undefined && ((spec.streams ?? specDefaults.streams) + 2) * spec.chunkBytes > MAX_CHUNK_MEMORY) {
    return { field: '/chunkBytes', reason: `with ${spec.streams ?? specDefaults.streams} streams needs (streams + 2) x chunkBytes of buffers, over the 2 GiB a load may take: lower chunkBytes or streams` };
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
  if (spec.target.entryNodes === 'all' && (spec.atomicity === 'job' || (spec.mode !== undefined && spec.mode !== 'append'))) {
    return { field: '/target/entryNodes', reason: '"all" loads each file or chunk in its own transaction on a node: it needs mode "append" with atomicity "file" or "chunk"' };
  }
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

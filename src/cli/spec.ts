// Turns `citus-ingest load` flags into the job spec POST /jobs takes. Pure except readCreateFile, so
// the mapping is unit-tested without a server; the server still validates everything it receives.
import { readFileSync } from 'node:fs';
import { formatTypes, type CreateSpec, type DistributionSpec, type FormatSpec, type TargetSpec } from '../jobs/spec.js';
import { parseSourceUrl } from '../sources/schemes.js';
import { usage } from './exit.js';

/** The flags of `citus-ingest load`, as commander hands them over (strings where the user typed them). */
export interface LoadFlags {
  table?: string;
  /** csv, ndjson or parquet (default: each object's name decides). */
  format?: string;
  /** Comma-separated column names in the file's order. */
  columns?: string;
  header?: boolean;
  delimiter?: string;
  quote?: string;
  escape?: string;
  null?: string;
  encoding?: string;
  distributeBy?: string;
  shards?: string;
  reference?: boolean;
  distributeExisting?: boolean;
  /** Citus: most connections a COPY opens to each worker. */
  connectionsPerWorker?: string;
  /** Bad records tolerated per file (they are kept as rejects); the server's default is 0. */
  maxErrors?: string;
}

/** What the command line submits: format fields it was not given are left to the server's defaults. */
export interface SubmitSpec {
  source: { url: string };
  format: Partial<FormatSpec>;
  target: TargetSpec;
  maxErrors?: number;
}


/** One character, with `\t` or `tab` standing for a tab (hard to type on a command line). */
function oneChar(flag: string, value: string): string {
  const v = value === '\\t' || value.toLowerCase() === 'tab' ? '\t' : value;
  if ([...v].length !== 1) throw usage(`--${flag} must be one character, got ${JSON.stringify(value)}`);
  return v;
}

function columnList(value: string): string[] {
  const names = value.split(',').map((c) => c.trim());
  if (names.some((c) => c === '')) throw usage(`--columns has an empty name: ${JSON.stringify(value)} (write a,b,c)`);
  const dup = names.find((c, i) => names.indexOf(c) !== i);
  if (dup !== undefined) throw usage(`--columns names ${JSON.stringify(dup)} twice`);
  return names;
}

function distribution(flags: LoadFlags): DistributionSpec | undefined {
  if (flags.reference && flags.distributeBy !== undefined) throw usage('--reference and --distribute-by exclude each other');
  if (flags.shards !== undefined && flags.distributeBy === undefined) throw usage('--shards needs --distribute-by <column>');
  if (flags.reference) return { reference: true };
  if (flags.distributeBy === undefined) return undefined;
  if (flags.distributeBy.trim() === '') throw usage('--distribute-by needs a column name');
  if (flags.shards === undefined) return { column: flags.distributeBy };
  const n = Number(flags.shards);
  if (!/^\d+$/.test(flags.shards) || n < 1 || n > 64_000) throw usage(`--shards must be a whole number from 1 to 64000, got ${JSON.stringify(flags.shards)}`);
  return { column: flags.distributeBy, shardCount: n };
}

/** Builds the spec from the URL and flags; throws a usage error (exit 2) for what is plainly wrong. */
export function buildSpec(url: string, flags: LoadFlags, create?: CreateSpec): SubmitSpec {
  try {
    // The same parser the API and the worker use: every scheme's URL shape, no dot segments.
    parseSourceUrl(url);
  } catch (err) {
    throw usage((err as Error).message);
  }
  if (flags.table === undefined || flags.table.trim() === '') throw usage('--table <schema.table> is required');
  const format: Partial<FormatSpec> = {};
  if (flags.header) format.header = true;
  if (flags.delimiter !== undefined) format.delimiter = oneChar('delimiter', flags.delimiter);
  if (flags.quote !== undefined) format.quote = oneChar('quote', flags.quote);
  if (flags.escape !== undefined) format.escape = oneChar('escape', flags.escape);
  if (flags.null !== undefined) format.null = flags.null;
  if (flags.encoding !== undefined) format.encoding = flags.encoding;
  if (flags.format !== undefined) {
    const type = formatTypes.find((f) => f === flags.format);
    if (!type) throw usage(`--format must be one of ${formatTypes.join(', ')}, got ${JSON.stringify(flags.format)}`);
    format.type = type;
  }

  const target: TargetSpec = { table: flags.table.trim() };
  if (flags.columns !== undefined) target.columns = columnList(flags.columns);
  if (create) target.create = create;
  const dist = distribution(flags);
  if (dist) target.distribution = dist;
  if (flags.distributeExisting) {
    if (!dist) throw usage('--distribute-existing needs --distribute-by or --reference');
    target.distributeExisting = true;
  }
  if (flags.connectionsPerWorker !== undefined) {
    const n = Number(flags.connectionsPerWorker);
    if (!/^\d+$/.test(flags.connectionsPerWorker) || n < 1 || n > 64) {
      throw usage(`--connections-per-worker must be a whole number from 1 to 64, got ${JSON.stringify(flags.connectionsPerWorker)}`);
    }
    target.connectionsPerWorker = n;
  }
  const spec: SubmitSpec = { source: { url }, format, target };
  if (flags.maxErrors !== undefined) {
    if (!/^\d+$/.test(flags.maxErrors)) throw usage(`--max-errors must be a whole number, got ${JSON.stringify(flags.maxErrors)}`);
    spec.maxErrors = Number(flags.maxErrors);
  }
  return spec;
}

/** Checks the shape of a parsed --create-from document: {columns: [{name, type}], primaryKey?, unique?}. */
export function createSpecFrom(doc: unknown, file: string): CreateSpec {
  const bad = (why: string) => usage(`--create-from ${file}: ${why} (expected {"columns": [{"name": ..., "type": ...}], "primaryKey": [...]})`);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('not a JSON object');
  const columns = (doc as { columns?: unknown }).columns;
  if (!Array.isArray(columns) || columns.length === 0) throw bad('"columns" must be a non-empty array');
  columns.forEach((c, i) => {
    const col = c as { name?: unknown; type?: unknown };
    if (typeof c !== 'object' || c === null || typeof col.name !== 'string' || typeof col.type !== 'string') {
      throw bad(`columns[${i}] needs a string "name" and "type"`);
    }
  });
  const pk = (doc as { primaryKey?: unknown }).primaryKey;
  if (pk !== undefined && (!Array.isArray(pk) || pk.some((c) => typeof c !== 'string'))) throw bad('"primaryKey" must be an array of column names');
  return doc as CreateSpec;
}

/** Reads and parses a --create-from file; an unreadable or malformed file is a usage error. */
export function readCreateFile(file: string): CreateSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw usage(`--create-from: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw usage(`--create-from ${file}: not valid JSON: ${(err as Error).message}`);
  }
  return createSpecFrom(doc, file);
}

// The job spec: what a user submits to POST /jobs, its JSON schema (validated at the edge), and the
// defaults applied before a job is stored.

export interface FormatSpec {
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

export interface JobSpec {
  source: { url: string };
  format: FormatSpec;
  target: { table: string; columns?: string[] };
  /** Bad records tolerated before the load fails. Only 0 is supported so far. */
  maxErrors: number;
}

export const defaultFormat: FormatSpec = {
  header: false,
  delimiter: ',',
  quote: '"',
  escape: '"',
  null: '',
  encoding: 'UTF8',
};

const oneChar = { type: 'string', minLength: 1, maxLength: 1 } as const;
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
          pattern: '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^/].*$',
          description: 'The object to load, as s3://bucket/key.',
          examples: ['s3://landing/price-paid/pp-2023.csv'],
        },
      },
    },
    format: {
      type: 'object',
      additionalProperties: false,
      properties: {
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
          type: 'array',
          minItems: 1,
          maxItems: 1600,
          uniqueItems: true,
          items: { type: 'string', minLength: 1, maxLength: 63 },
          description: 'Columns in the order the file holds them; all columns in table order when omitted.',
        },
      },
    },
    maxErrors: {
      type: 'integer',
      minimum: 0,
      maximum: 0,
      default: 0,
      description: 'Bad records tolerated. Only 0 is accepted until row isolation lands: any bad record fails the load.',
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
    source: { url: raw.source!.url },
    format,
    target: { table: raw.target!.table, ...(raw.target!.columns ? { columns: [...raw.target!.columns] } : {}) },
    maxErrors: raw.maxErrors ?? 0,
  };
  return spec;
}

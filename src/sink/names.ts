// Table and column names. A user's `schema.table` is parsed into its parts and every identifier reaches
// SQL only through quoteIdent: names are never pasted into SQL as written. The names the service makes
// up itself (staging tables, their domains) come from generatedName, so they stay distinct within
// PostgreSQL's 63-byte limit.
import { createHash } from 'node:crypto';

export interface TableName {
  schema: string;
  table: string;
}

/**
 * Splits `schema.table` the way SQL reads it: unquoted parts fold to lower case, double-quoted parts
 * are kept exactly (`""` for a quote inside); the schema defaults to public.
 */
export function parseTableName(input: string): TableName {
  const parts: string[] = [];
  let i = 0;
  while (i <= input.length) {
    if (input[i] === '"') {
      let j = i + 1;
      let part = '';
      for (;;) {
        if (j >= input.length) throw new Error(`unterminated quoted identifier in ${JSON.stringify(input)}`);
        if (input[j] === '"') {
          if (input[j + 1] === '"') {
            part += '"';
            j += 2;
            continue;
          }
          break;
        }
        part += input[j];
        j += 1;
      }
      parts.push(part);
      i = j + 1;
    } else {
      const dot = input.indexOf('.', i);
      const end = dot === -1 ? input.length : dot;
      // Unquoted identifiers fold to lower case, as they do in SQL.
      parts.push(input.slice(i, end).toLowerCase());
      i = end;
    }
    if (i >= input.length) break;
    if (input[i] !== '.') throw new Error(`unexpected character after identifier in ${JSON.stringify(input)}`);
    i += 1;
  }
  if (parts.length === 1) return { schema: 'public', table: parts[0]! };
  if (parts.length === 2) return { schema: parts[0]!, table: parts[1]! };
  throw new Error(`a table name has at most two parts (schema.table): ${JSON.stringify(input)}`);
}

/** Quotes an identifier for SQL: always double-quoted, inner quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal for SQL (standard_conforming_strings on, as in every supported PostgreSQL). */
export function quoteLiteral(value: string): string {
  if (value.includes('\\')) return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  return `'${value.replace(/'/g, "''")}'`;
}

export function qualifiedName(t: TableName): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
}

/** PostgreSQL keeps the first 63 bytes of an identifier (NAMEDATALEN - 1) and drops the rest. */
export const MAX_IDENTIFIER_BYTES = 63;

/** The longest prefix of `text` that fits in `bytes` UTF-8 bytes, cut between characters. */
function prefixWithin(text: string, bytes: number): string {
  let used = 0;
  let out = '';
  for (const ch of text) {
    used += Buffer.byteLength(ch);
    if (used > bytes) break;
    out += ch;
  }
  return out;
}

/**
 * A name the service makes up: `base` then `suffix`, as is when that fits in 63 bytes. Longer, `base` is
 * cut on a character boundary and a hash of the whole name goes before `suffix`, so two names that differ
 * only past the cut still differ. PostgreSQL would otherwise cut it silently, and `t__ci_new_x` of a
 * long `t` could come out as another table's name.
 */
export function generatedName(base: string, suffix: string): string {
  const whole = base + suffix;
  if (Buffer.byteLength(whole) <= MAX_IDENTIFIER_BYTES) return whole;
  const hash = `_${createHash('sha256').update(whole).digest('hex').slice(0, 10)}`;
  const room = MAX_IDENTIFIER_BYTES - Buffer.byteLength(suffix) - hash.length;
  if (room < 0) throw new Error(`generated name suffix too long: ${JSON.stringify(suffix)}`);
  return prefixWithin(base, room) + hash + suffix;
}

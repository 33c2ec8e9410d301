// Table and column names. A user's `schema.table` is parsed into its parts and every identifier reaches
// SQL only through quoteIdent: names are never pasted into SQL as written.

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

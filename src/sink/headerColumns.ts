// `target.columns: "header"`: the column list comes from the file's header record, matched to the
// table's columns (exactly, or case-insensitively when that is unambiguous).
import { parse } from 'csv-parse/sync';
import { IngestError } from '../errors.js';
import type { FormatSpec } from '../jobs/spec.js';

export function columnsFromHeader(header: Buffer | undefined, format: FormatSpec, tableColumns: string[], table: string, textEncoding: BufferEncoding): string[] {
  if (!header || header.length === 0) {
    throw new IngestError('TARGET_COLUMN_NOT_FOUND', `target.columns is "header" but the file has no header record`, { field: '/target/columns' });
  }
  let names: string[];
  try {
    const rows = parse(header.toString(textEncoding), {
      delimiter: format.delimiter,
      quote: format.quote,
      escape: format.escape,
      relax_column_count: true,
    }) as string[][];
    names = (rows[0] ?? []).map((n) => n.trim());
  } catch (err) {
    throw new IngestError('TARGET_COLUMN_NOT_FOUND', `the header record could not be read as CSV: ${(err as Error).message}`, { field: '/target/columns' });
  }
  const exact = new Set(tableColumns);
  const folded = new Map<string, string[]>();
  for (const c of tableColumns) folded.set(c.toLowerCase(), [...(folded.get(c.toLowerCase()) ?? []), c]);
  const matched: string[] = [];
  const missing: string[] = [];
  for (const n of names) {
    if (exact.has(n)) matched.push(n);
    else if (folded.get(n.toLowerCase())?.length === 1) matched.push(folded.get(n.toLowerCase())![0]!);
    else missing.push(n);
  }
  if (missing.length > 0) {
    throw new IngestError(
      'TARGET_COLUMN_NOT_FOUND',
      `the header names ${missing.map((m) => JSON.stringify(m)).join(', ')}, not columns of ${table}; its columns are ${tableColumns.map((c) => JSON.stringify(c)).join(', ')}`,
      { field: '/target/columns', missing, header: names, tableColumns },
    );
  }
  const dup = matched.find((m, i) => matched.indexOf(m) !== i);
  if (dup) throw new IngestError('TARGET_COLUMN_NOT_FOUND', `the header names column ${JSON.stringify(dup)} twice`, { field: '/target/columns', header: names });
  return matched;
}

// The COPY statement, built from quoted identifiers and literals only, and the position (line, column)
// a COPY error names.
import type { FormatSpec } from '../jobs/spec.js';
import { quoteIdent, quoteLiteral } from './names.js';
import type { ResolvedTarget } from './resolveTarget.js';

/** The COPY statement. The header, if any, is taken out before COPY sees the bytes (see CsvFramer). */
export function copyStatement(target: ResolvedTarget, format: FormatSpec, columns: string[] = target.columns): string {
  return copyInto(target.sql, columns, format);
}

/** The COPY statement into any relation (given as quoted SQL), with the load's format options. */
export function copyInto(relationSql: string, columns: string[], format: FormatSpec): string {
  const cols = columns.map(quoteIdent).join(', ');
  const options = [
    'FORMAT csv',
    `DELIMITER ${quoteLiteral(format.delimiter)}`,
    `QUOTE ${quoteLiteral(format.quote)}`,
    `ESCAPE ${quoteLiteral(format.escape)}`,
    `NULL ${quoteLiteral(format.null)}`,
    `ENCODING ${quoteLiteral(format.encoding)}`,
  ];
  return `COPY ${relationSql} (${cols}) FROM STDIN WITH (${options.join(', ')})`;
}

/**
 * The line and column PostgreSQL names in a COPY error's context, when it names them. Its line counts
 * physical lines of the input, quoted line breaks and the header included.
 */
export function copyErrorPosition(err: { where?: string }): { record?: number; column?: string } {
  // The context reads like: COPY uk_price, line 3, column price: "abc"
  const m = /\bline (\d+)(?:, column ([^:]+))?/.exec(err.where ?? '');
  if (!m) return {};
  return { record: Number(m[1]), ...(m[2] ? { column: m[2] } : {}) };
}

// COPY FROM STDIN into the target: builds the statement from quoted identifiers and literals and pipes
// a byte stream into it with backpressure. Destroying the pipeline (abort) sends CopyFail, so the
// server ends the COPY with an error and the caller's transaction rolls back.
import { pipeline } from 'node:stream/promises';
import type { Readable, Transform } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../db/pool.js';
import type { FormatSpec } from '../jobs/spec.js';
import { quoteIdent, quoteLiteral } from './names.js';
import type { ResolvedTarget } from './resolveTarget.js';

export function copyStatement(target: ResolvedTarget, format: FormatSpec): string {
  const cols = target.columns.map(quoteIdent).join(', ');
  const options = [
    'FORMAT csv',
    `HEADER ${format.header ? 'true' : 'false'}`,
    `DELIMITER ${quoteLiteral(format.delimiter)}`,
    `QUOTE ${quoteLiteral(format.quote)}`,
    `ESCAPE ${quoteLiteral(format.escape)}`,
    `NULL ${quoteLiteral(format.null)}`,
    `ENCODING ${quoteLiteral(format.encoding)}`,
  ];
  return `COPY ${target.sql} (${cols}) FROM STDIN WITH (${options.join(', ')})`;
}

export interface CopyResult {
  /** Rows the server reports it loaded (the COPY command tag). */
  rowCount: number;
}

/**
 * Streams `source` through `transforms` into one COPY on `client`, which must be inside a transaction
 * the caller owns. Resolves when the server has acknowledged the COPY.
 */
export async function copyInto(
  client: PoolClient,
  statement: string,
  source: Readable,
  transforms: Transform[],
  signal?: AbortSignal,
): Promise<CopyResult> {
  const copy = client.query(copyStreams.from(statement));
  await pipeline([source, ...transforms, copy], signal ? { signal } : {});
  return { rowCount: copy.rowCount ?? 0 };
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

// The file encoding a job names must be one PostgreSQL knows: COPY ... ENCODING would refuse it only
// once the load runs, and the error would read as bad data.
import type { Pool, PoolClient } from '../db/pool.js';
import { IngestError } from '../errors.js';

/** Throws INVALID_SPEC naming format.encoding when the database does not know the encoding. */
export async function checkEncoding(db: Pool | PoolClient, encoding: string): Promise<void> {
  const { rows } = await db.query<{ n: number }>('SELECT pg_catalog.pg_char_to_encoding($1) AS n', [encoding]);
  if ((rows[0]?.n ?? -1) >= 0) return;
  throw new IngestError('INVALID_SPEC', `invalid job spec: /format/encoding ${JSON.stringify(encoding)} is not an encoding PostgreSQL knows (UTF8, LATIN1, WIN1252, SJIS...)`, {
    field: '/format/encoding',
    reason: 'is not an encoding PostgreSQL knows, such as UTF8, LATIN1 or WIN1252',
  });
}

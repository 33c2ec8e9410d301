// Learns how the database refuses one record when the COPY error did not say: Citus reports a row that
// a worker refuses during COPY (unique, CHECK, NOT NULL, foreign key, exclusion) as internal_error
// (XX000), without the worker's SQLSTATE. Sent as a single-row INSERT, the same record goes through
// Citus's router, which passes the worker's SQLSTATE on, so the SQLSTATE decides, not the message.
// PostgreSQL itself splits the record into fields (a COPY with the load's own format into a temporary
// table of text columns), so the INSERT receives exactly the strings COPY would have converted.
import { finished } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../db/pool.js';
import type { FormatSpec } from '../jobs/spec.js';
import { copyInto } from './copySql.js';
import { generatedName, quoteIdent } from './names.js';

export interface RecordProbe {
  /**
   * Inserts the one record `bytes` (a framed record with its line end) into the target. Returns the
   * database's error when it refuses it, undefined when the row went in. Runs inside the caller's
   * savepoint, which the caller rolls back on an error (that also drops the temporary table).
   */
  insert(client: PoolClient, bytes: Buffer): Promise<unknown | undefined>;
}

export function recordProbe(targetSql: string, columns: string[], format: FormatSpec): RecordProbe {
  // Named by column count only: every load with as many columns on this session can share it.
  const fields = columns.map((_, i) => `c${i + 1}`);
  const name = quoteIdent(generatedName('citus_ingest_probe_', `${columns.length}`));
  const table = `pg_temp.${name}`;
  const create = `CREATE TEMP TABLE IF NOT EXISTS ${name} (${fields.map((f) => `${f} text`).join(', ')}) ON COMMIT DROP`;
  const copy = copyInto(table, fields, format);
  const take = `DELETE FROM ${table} RETURNING ${fields.join(', ')}`;
  const insert = `INSERT INTO ${targetSql} (${columns.map(quoteIdent).join(', ')}) VALUES (${fields.map((_, i) => `$${i + 1}`).join(', ')})`;
  return {
    async insert(client, bytes) {
      try {
        await client.query(create);
        const stream = client.query(copyStreams.from(copy));
        stream.end(bytes);
        await finished(stream);
        const { rows } = await client.query({ text: take, rowMode: 'array' });
        const values = (rows[0] as (string | null)[] | undefined) ?? [];
        if (values.length !== columns.length) return new Error(`the record split into ${values.length} fields, ${columns.length} expected`);
        await client.query(insert, values);
        return undefined;
      } catch (err) {
        return err;
      }
    },
  };
}

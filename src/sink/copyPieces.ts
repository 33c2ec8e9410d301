// Sends bytes into one COPY a piece at a time and stops writing once the server has refused a record,
// so the rest is not sent after a failure. Shared by BatchCopier (a span of a batch, 64 KiB at a time)
// and the stage (a batch less its refused records, a run of good records at a time).
import { finished } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../db/pool.js';
import { trackCopy } from '../metrics.js';

/** Runs `statement` (COPY ... FROM STDIN) with `pieces`; returns its error, if any, and the rows it loaded. */
export async function copyPieces(client: PoolClient, statement: string, pieces: Iterable<Buffer>): Promise<{ err: unknown; rowCount: number }> {
  const copy = client.query(copyStreams.from(statement));
  let failed = false;
  const done = trackCopy(finished(copy)).then(
    () => undefined,
    (err: unknown) => {
      failed = true;
      return err ?? new Error('COPY failed');
    },
  );
  try {
    for (const piece of pieces) {
      if (failed) break;
      if (!copy.write(piece)) await Promise.race([new Promise((r) => copy.once('drain', r)), done]);
    }
    if (!failed) copy.end();
  } catch (err) {
    if (!copy.destroyed) copy.destroy(err as Error);
  }
  const err = await done;
  return { err, rowCount: copy.rowCount ?? 0 };
}

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
      // A piece is written once the one before has gone to the socket. A piece still queued in the
      // stream when the server ends the COPY with an error is flushed later into a query that is over,
      // and throws where no caller catches it (pg-copy-streams issue #171).
      // Its callback may come with an error after the COPY's own: that one is the COPY's to report.
      const written = new Promise<void>((ok) => copy.write(piece, () => ok()));
      await Promise.race([written, done]);
    }
    if (!failed) copy.end();
  } catch (err) {
    if (!copy.destroyed) copy.destroy(err as Error);
  }
  const err = await done;
  return { err, rowCount: copy.rowCount ?? 0 };
}

// Pieces every load path shares: the framer a job's format asks for, and the watch on a COPY
// connection's own error.
import type { PoolClient } from '../db/pool.js';
import type { JobSpec } from '../jobs/spec.js';
import { CsvFramer } from '../scan/csvFramer.js';

/** The framer for a job's format: batch loading keeps record positions, chunked loading marks cuts. */
export function framerFor(spec: JobSpec, opts: { trackRecords: boolean; cutEvery?: number }): CsvFramer {
  return new CsvFramer({
    quote: spec.format.quote,
    escape: spec.format.escape,
    header: spec.format.header,
    dropBom: /^UTF-?8$/i.test(spec.format.encoding),
    trackRecords: opts.trackRecords,
    ...(opts.cutEvery !== undefined ? { cutEvery: opts.cutEvery } : {}),
  });
}

/**
 * A connection the server ends (terminated backend, restart) fails a COPY in whatever way the stream
 * notices first; the client's own error carries the server's SQLSTATE, so that one decides. `first()`
 * is that error, if any; `stop()` removes the listener before the client goes back to the pool.
 */
export function watchConnection(client: PoolClient): { first(): unknown; stop(): void } {
  let error: unknown;
  const onError = (err: unknown): void => {
    error ??= err;
  };
  client.on('error', onError);
  return { first: () => error, stop: () => client.off('error', onError) };
}

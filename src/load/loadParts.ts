// Pieces every load path shares: the framer a job's format asks for, the watch on a COPY
// connection's own error, and the object's bytes piped (counted, gunzipped) into a sink.
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PoolClient } from '../db/pool.js';
import type { JobSpec } from '../jobs/spec.js';
import { CsvFramer } from '../scan/csvFramer.js';
import { openObject, type ObjectInfo } from '../sources/s3.js';
import type { StageTimer } from './stageTimer.js';
import { noteBytesRead } from './youngGc.js';

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

export function isGzip(object: ObjectInfo): boolean {
  return /\.gz$/i.test(object.key) || /gzip/i.test(object.contentEncoding ?? '');
}

/** What reading the source saw: bytes read (compressed bytes for gzip) and an error of its own. */
export interface SourceState {
  bytes: number;
  error: Error | undefined;
}

/**
 * GETs the object and pipes it, gunzipped when it is gzip, into `sink` with backpressure. `state`
 * follows the bytes read and any error the source itself raised; the first byte is timed from `since`
 * as firstByteMs. Rejects as the pipeline does (an abort sends CopyFail through the sink).
 */
export async function pipeObject(o: {
  s3: S3Client;
  object: ObjectInfo;
  sink: Writable;
  signal: AbortSignal;
  timer: StageTimer;
  since: number;
  state: SourceState;
  onBytes: (bytes: number) => void;
}): Promise<void> {
  const body = await openObject(o.s3, o.object, o.signal);
  body.once('error', (err) => {
    o.state.error = err;
  });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (o.state.bytes === 0) o.timer.add('firstByteMs', o.timer.elapsed() - o.since);
      o.state.bytes += chunk.length;
      o.onBytes(o.state.bytes);
      noteBytesRead(chunk.length);
      done(null, chunk);
    },
  });
  // After the GET: openObject learns a listed object's Content-Encoding from the response.
  const stages: NodeJS.ReadWriteStream[] = (isGzip(o.object) ? [body, counter, createGunzip(), o.sink] : [body, counter, o.sink]) as unknown as NodeJS.ReadWriteStream[];
  await pipeline(stages, { signal: o.signal });
}

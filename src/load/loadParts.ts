// Pieces every load path shares: the watch on a COPY connection's own error, and the object's bytes
// piped from its source (counted, gunzipped when the decoder takes gzip) into a sink.
import type { Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { PoolClient } from '../db/pool.js';
import type { RecordDecoder } from '../decode/decoder.js';
import type { ByteRange, ObjectInfo, ObjectSource } from '../sources/source.js';
import { noteBytesRead } from '../handbuilt/youngGc.js';
import type { StageTimer } from './stageTimer.js';

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
 * Opens the object and pipes it, gunzipped when it is gzip and the decoder reads gzip, into `sink` with
 * backpressure. A decoder that must read part of the object first (Parquet's footer) does so through
 * range reads and says which range to stream. `state` follows the bytes read and any error the source
 * itself raised; the first byte is timed from `since` as firstByteMs. Rejects as the pipeline does (an
 * abort sends CopyFail through the sink).
 */
export async function pipeObject(o: {
  source: ObjectSource;
  object: ObjectInfo;
  decoder: RecordDecoder;
  sink: Writable;
  signal: AbortSignal;
  timer: StageTimer;
  since: number;
  state: SourceState;
  onBytes: (bytes: number) => void;
}): Promise<void> {
  const readRange = async (range: ByteRange): Promise<Buffer> => buffer(await o.source.open(o.object, range, o.signal));
  const range = o.decoder.prepare ? await o.decoder.prepare(readRange, o.object.size) : undefined;
  const body = await o.source.open(o.object, range, o.signal);
  // After the open: a listed object learns its Content-Encoding from the response.
  const gunzip = o.decoder.acceptsGzip && isGzip(o.object) ? createGunzip() : undefined;
  const expected = range ? range.end - range.start : o.object.size;
  body.once('error', (err) => {
    // pipeline() destroys every stage with the first error; the body's error after a later stage failed
    // (the COPY, the gunzip) or the load was aborted (a chunk lane's COPY) is not the source's own.
    if (o.sink.errored || gunzip?.errored || o.signal.aborted) return;
    o.state.error = err;
    // What the run reports: how far the body got before the store's connection ended.
    if (o.state.bytes < expected) err.message = `${err.message}: the store closed the connection after ${o.state.bytes} of ${expected} body bytes`;
  });
  const stages = (gunzip ? [body, gunzip, o.sink] : [body, o.sink]) as unknown as NodeJS.ReadWriteStream[];
  const piped = pipeline(stages, { signal: o.signal });
  // The bytes are counted as they leave the source, beside the pipe (a Transform stage for it cost a
  // Writable and a Readable per read). Added after pipeline() has piped the body, so no read is missed.
  body.on('data', (chunk: Buffer) => {
    if (o.state.bytes === 0) o.timer.add('firstByteMs', o.timer.elapsed() - o.since);
    o.state.bytes += chunk.length;
    o.onBytes(o.state.bytes);
    noteBytesRead(chunk.length);
  });
  await piped;
}

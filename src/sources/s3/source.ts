// S3 and the S3-compatible stores as an ObjectSource. Failures become IngestErrors: a missing object or
// bucket and refused credentials are permanent, everything else (network, 5xx) is retryable.
import { GetObjectCommand, HeadObjectCommand, ListBucketsCommand, paginateListObjectsV2, S3ServiceException, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { IngestError } from '../../errors.js';
import { checkAllowList, checkKey } from '../keys.js';
import type { ByteRange, ObjectInfo, ObjectRef, ObjectSource, SchemeParser } from '../source.js';

export interface S3SourceOptions {
  parser: SchemeParser;
  client: S3Client;
  /** The client for bodies of LARGE_BODY_BYTES or more (createS3Client's `largeBodies`); `client` without it. */
  bodyClient?: S3Client;
  /** Buckets jobs may read; empty means any. */
  allowedBuckets: readonly string[];
  /** The setting that holds the allow-list, for messages. */
  allowSetting: string;
  /** What to tell a user whose credentials were refused. */
  credentialsHint: string;
}

/** Bodies this long or longer are read through `bodyClient`: a connection of their own pays for itself. */
export const LARGE_BODY_BYTES = 8 << 20;

const unquote = (etag: string | undefined): string => (etag ?? '').replace(/"/g, '');

export class S3Source implements ObjectSource {
  readonly scheme: string;
  readonly listable = true;

  constructor(private readonly o: S3SourceOptions) {
    this.scheme = o.parser.scheme;
  }

  /** The SDK client (tests and tools write objects with it). */
  get client(): S3Client {
    return this.o.client;
  }

  url(ref: ObjectRef): string {
    return this.o.parser.url(ref);
  }

  checkAllowed(ref: ObjectRef): void {
    checkAllowList(ref.container, this.o.allowedBuckets, 'bucket', this.o.allowSetting);
  }

  mapError(err: unknown, where: ObjectRef): IngestError {
    if (err instanceof IngestError) return err;
    const url = this.url(where);
    const name = (err as { name?: string }).name ?? '';
    const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
    if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket' || status === 404) {
      const what = name === 'NoSuchBucket' ? `bucket ${where.container} does not exist` : `object ${url} does not exist`;
      return new IngestError('SOURCE_NOT_FOUND', `${what}; check source.url`, { url, s3Error: name || String(status) }, { cause: err });
    }
    if (name === 'PreconditionFailed' || status === 412) {
      return new IngestError('SOURCE_CHANGED', `${url} was rewritten after it was listed; nothing from the new version was loaded`, { url }, { cause: err });
    }
    if (name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || status === 403) {
      return new IngestError(
        'SOURCE_ACCESS_DENIED',
        `object storage refused access to ${url} (${name || status}); ${this.o.credentialsHint}`,
        { url, s3Error: name || String(status) },
        { cause: err },
      );
    }
    const message = err instanceof Error ? err.message : String(err);
    return new IngestError('SOURCE_UNAVAILABLE', `object storage failed for ${url}: ${message}`, { url, s3Error: name }, { cause: err });
  }

  async head(ref: ObjectRef, signal?: AbortSignal): Promise<ObjectInfo> {
    checkKey(ref.key, '/source/url');
    try {
      const head = await this.o.client.send(new HeadObjectCommand({ Bucket: ref.container, Key: ref.key }), { abortSignal: signal });
      return {
        scheme: this.scheme, container: ref.container, key: ref.key,
        size: head.ContentLength ?? 0,
        version: unquote(head.ETag),
        contentEncoding: head.ContentEncoding,
        ...(head.LastModified ? { lastModified: head.LastModified } : {}),
      };
    } catch (err) {
      throw this.mapError(err, ref);
    }
  }

  async *list(prefix: ObjectRef, signal: AbortSignal): AsyncGenerator<ObjectInfo[]> {
    // The SDK's paginator follows the continuation tokens; each page's request carries the run's signal.
    const pages = paginateListObjectsV2({ client: this.o.client, pageSize: 1000 }, { Bucket: prefix.container, Prefix: prefix.key }, { abortSignal: signal });
    const next = async (): Promise<IteratorResult<ListObjectsV2CommandOutput>> => {
      try {
        return await pages.next();
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw this.mapError(err, prefix);
      }
    };
    for (let page = await next(); !page.done; page = await next()) {
      const objects: ObjectInfo[] = [];
      for (const o of page.value.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue;
        objects.push({
          scheme: this.scheme, container: prefix.container, key: o.Key, size: o.Size ?? 0, version: unquote(o.ETag), contentEncoding: undefined,
          ...(o.LastModified ? { lastModified: o.LastModified } : {}),
        });
      }
      yield objects;
    }
  }

  async open(info: ObjectInfo, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    // Listed keys and manifest entries come here without passing the URL parser.
    checkKey(info.key, '/source/url');
    if (range && range.end <= range.start) return Readable.from([]);
    const length = range ? range.end - range.start : info.size;
    const client = length >= LARGE_BODY_BYTES && this.o.bodyClient ? this.o.bodyClient : this.o.client;
    try {
      const out = await client.send(
        new GetObjectCommand({
          Bucket: info.container,
          Key: info.key,
          ...(info.version ? { IfMatch: `"${info.version}"` } : {}),
          ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
        }),
        { abortSignal: signal },
      );
      if (range && out.ContentRange === undefined && (out.ContentLength ?? 0) !== range.end - range.start) {
        throw new IngestError('SOURCE_RANGE_UNSUPPORTED', `${this.url(info)}: the server ignored a range request (bytes ${range.start}-${range.end - 1})`, { url: this.url(info) });
      }
      // Listed objects come without headers: the GET tells the encoding.
      if (out.ContentEncoding && !info.contentEncoding) info.contentEncoding = out.ContentEncoding;
      return out.Body as Readable;
    } catch (err) {
      throw this.mapError(err, info);
    }
  }

  async readText(ref: ObjectRef, signal: AbortSignal): Promise<string | undefined> {
    checkKey(ref.key, '/source/url');
    try {
      const out = await this.o.client.send(new GetObjectCommand({ Bucket: ref.container, Key: ref.key }), { abortSignal: signal });
      return await out.Body!.transformToString('utf8');
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const mapped = this.mapError(err, ref);
      // A missing marker is an answer; a missing bucket is not.
      if (mapped.code === 'SOURCE_NOT_FOUND' && (err as { name?: string }).name !== 'NoSuchBucket') return undefined;
      throw mapped;
    }
  }

  close(): void {
    this.o.client.destroy();
    this.o.bodyClient?.destroy();
  }

  async ping(signal: AbortSignal): Promise<void> {
    try {
      await this.o.client.send(new ListBucketsCommand({}), { abortSignal: signal });
    } catch (err) {
      // Credentials limited to some buckets may not list them all; an answer still proves reachability.
      if ((err as { name?: string }).name !== 'AccessDenied') throw err;
    }
  }
}

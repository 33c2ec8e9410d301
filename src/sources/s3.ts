// Object storage: build the client, and open an object as a byte stream (s3:// URLs are parsed in
// s3Url.ts, re-exported here).
// Failures are mapped to IngestErrors: a missing object or bucket and refused credentials are
// permanent, everything else (network, 5xx) is retryable.
import { S3Client, HeadObjectCommand, GetObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { Config } from '../config.js';
import { IngestError } from '../errors.js';
import { checkKey, type S3Location } from './s3Url.js';

export type { S3Location } from './s3Url.js';
export { parseS3Url } from './s3Url.js';

export interface ObjectInfo extends S3Location {
  size: number;
  etag: string;
  contentEncoding: string | undefined;
  /** When the object was last written, as object storage reports it (mode "merge" may order by it). */
  lastModified?: Date;
}

export function createS3Client(config: Pick<Config, 's3Endpoint' | 's3Region' | 's3AccessKeyId' | 's3SecretAccessKey' | 's3ForcePathStyle'>): S3Client {
  return new S3Client({
    region: config.s3Region,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
    forcePathStyle: config.s3ForcePathStyle,
    ...(config.s3AccessKeyId && config.s3SecretAccessKey
      ? { credentials: { accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey } }
      : {}),
    // MinIO and s3rver do not all speak the SDK's newer default checksums; send them only when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}

export function mapS3Error(err: unknown, where: S3Location): IngestError {
  if (err instanceof IngestError) return err;
  const url = `s3://${where.bucket}/${where.key}`;
  const name = (err as { name?: string }).name ?? '';
  const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
  if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket' || status === 404) {
    const what = name === 'NoSuchBucket' ? `bucket ${where.bucket} does not exist` : `object ${url} does not exist`;
    return new IngestError('SOURCE_NOT_FOUND', `${what}; check source.url`, { url, s3Error: name || String(status) }, { cause: err });
  }
  if (name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || status === 403) {
    return new IngestError(
      'SOURCE_ACCESS_DENIED',
      `object storage refused access to ${url} (${name || status}); check S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY and the bucket policy`,
      { url, s3Error: name || String(status) },
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new IngestError('SOURCE_UNAVAILABLE', `object storage failed for ${url}: ${message}`, { url, s3Error: name }, { cause: err });
}

export async function headObject(s3: S3Client, loc: S3Location, signal?: AbortSignal): Promise<ObjectInfo> {
  checkKey(loc.key, '/source/url');
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }), { abortSignal: signal });
    return {
      ...loc,
      size: head.ContentLength ?? 0,
      etag: (head.ETag ?? '').replace(/"/g, ''),
      contentEncoding: head.ContentEncoding,
      ...(head.LastModified ? { lastModified: head.LastModified } : {}),
    };
  } catch (err) {
    throw mapS3Error(err, loc);
  }
}

/**
 * Opens the object's bytes as a Node stream. `ifMatch` pins the read to the ETag seen by HEAD, so an
 * object replaced between HEAD and GET fails instead of loading bytes the ledger does not describe.
 */
export async function openObject(s3: S3Client, info: ObjectInfo, signal?: AbortSignal): Promise<Readable> {
  // Listed keys and manifest entries come here without passing parseS3Url.
  checkKey(info.key, '/source/url');
  try {
    const out = await s3.send(
      new GetObjectCommand({ Bucket: info.bucket, Key: info.key, ...(info.etag ? { IfMatch: `"${info.etag}"` } : {}) }),
      { abortSignal: signal },
    );
    const body = out.Body as Readable;
    // Listed objects come without headers: the GET tells the encoding.
    if (out.ContentEncoding && !info.contentEncoding) info.contentEncoding = out.ContentEncoding;
    return body;
  } catch (err) {
    throw mapS3Error(err, info);
  }
}

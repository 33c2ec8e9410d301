// Turns a job's source into the list of objects to load: one object (s3://bucket/key), or every object
// under a prefix (s3://bucket/dir/), paged through, minus Spark and Hadoop bookkeeping (any name or
// folder starting with `_` or `.`: _SUCCESS, _temporary/, .part-0000.csv.crc), filtered by an optional
// glob on the name below the prefix.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import picomatch from 'picomatch';
import { IngestError } from '../errors.js';
import type { JobSpec } from '../jobs/spec.js';
import { headObject, mapS3Error, parseS3Url, type ObjectInfo } from './s3.js';
import { waitForMarker } from './marker.js';

/** True for names Spark and Hadoop write beside the data: never loaded. */
export function isBookkeeping(relativeKey: string): boolean {
  return relativeKey.split('/').some((part) => part.startsWith('_') || part.startsWith('.'));
}

export async function listPrefix(s3: S3Client, bucket: string, prefix: string, signal: AbortSignal): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: 1000 }), { abortSignal: signal });
    } catch (err) {
      throw mapS3Error(err, { bucket, key: prefix });
    }
    for (const o of page.Contents ?? []) {
      if (!o.Key || o.Key.endsWith('/')) continue;
      out.push({ bucket, key: o.Key, size: o.Size ?? 0, etag: (o.ETag ?? '').replace(/"/g, ''), contentEncoding: undefined, ...(o.LastModified ? { lastModified: o.LastModified } : {}) });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Refuses a bucket outside the allow-list before any request goes out. */
export function checkBucketAllowed(url: string, allowed: readonly string[]): void {
  if (allowed.length === 0) return;
  const { bucket } = parseS3Url(url);
  if (!allowed.includes(bucket)) {
    throw new IngestError('SOURCE_FORBIDDEN', `bucket ${bucket} is not in S3_ALLOWED_BUCKETS (${allowed.join(', ')}); nothing was requested from it`, {
      field: '/source/url',
      bucket,
    });
  }
}

export interface ResolveOptions {
  allowedBuckets: readonly string[];
  /** Called with how long the marker wait took. */
  onMarker?: (waitedMs: number, manifest: string[] | undefined) => void;
}

export async function resolveSources(s3: S3Client, source: JobSpec['source'], signal: AbortSignal, opts: ResolveOptions): Promise<ObjectInfo[]> {
  checkBucketAllowed(source.url, opts.allowedBuckets);
  const loc = parseS3Url(source.url);
  if (!loc.key.endsWith('/')) return [await headObject(s3, loc, signal)];
  let manifest: string[] | undefined;
  if (source.waitForMarker) {
    const marker = await waitForMarker(s3, loc.bucket, loc.key, source.waitForMarker, source.markerTimeoutSeconds ?? 3600, signal);
    manifest = marker.manifest;
    opts.onMarker?.(marker.waitedMs, manifest);
  }
  const all = await listPrefix(s3, loc.bucket, loc.key, signal);
  if (manifest) {
    // The manifest is the committed output: exactly those files, each of which must be there.
    const byKey = new Map(all.map((o) => [o.key, o]));
    const missing = manifest.filter((k) => !byKey.has(k));
    if (missing.length > 0) {
      throw new IngestError(
        'MANIFEST_FILE_MISSING',
        `the manifest in s3://${loc.bucket}/${loc.key}${source.waitForMarker} names ${missing.length} file(s) not under the prefix: ${missing.slice(0, 5).join(', ')}; nothing was loaded`,
        { url: source.url, missing: missing.slice(0, 100) },
      );
    }
    return [...new Set(manifest)].sort().map((k) => byKey.get(k)!);
  }
  const match = source.pattern ? picomatch(source.pattern, { dot: false }) : undefined;
  const objects = all
    .filter((o) => {
      const rel = o.key.slice(loc.key.length);
      return !isBookkeeping(rel) && (!match || match(rel));
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (objects.length === 0) {
    throw new IngestError(
      'SOURCE_NOT_FOUND',
      `no objects to load under ${source.url}${source.pattern ? ` matching ${JSON.stringify(source.pattern)}` : ''} (${all.length} listed, all Spark/Hadoop bookkeeping or filtered out)`,
      { url: source.url, listed: all.length },
    );
  }
  return objects;
}

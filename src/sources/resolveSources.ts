// Turns a job's source into the list of objects to load: one object (s3://bucket/key), or every object
// under a prefix (s3://bucket/dir/), paged through, minus Spark and Hadoop bookkeeping (any name or
// folder starting with `_` or `.`: _SUCCESS, _temporary/, .part-0000.csv.crc), filtered by an optional
// glob on the name below the prefix.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import picomatch from 'picomatch';
import { IngestError } from '../errors.js';
import type { JobSpec } from '../jobs/spec.js';
import { headObject, mapS3Error, parseS3Url, type ObjectInfo } from './s3.js';

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
      out.push({ bucket, key: o.Key, size: o.Size ?? 0, etag: (o.ETag ?? '').replace(/"/g, ''), contentEncoding: undefined });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export async function resolveSources(s3: S3Client, source: JobSpec['source'], signal: AbortSignal): Promise<ObjectInfo[]> {
  const loc = parseS3Url(source.url);
  if (!loc.key.endsWith('/')) return [await headObject(s3, loc, signal)];
  const match = source.pattern ? picomatch(source.pattern, { dot: false }) : undefined;
  const all = await listPrefix(s3, loc.bucket, loc.key, signal);
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

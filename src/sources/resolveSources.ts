// Turns a job's source into the list of objects to load.
import type { S3Client } from '@aws-sdk/client-s3';
import type { JobSpec } from '../jobs/spec.js';
import { headObject, parseS3Url, type ObjectInfo } from './s3.js';

export async function resolveSources(s3: S3Client, source: JobSpec['source'], signal: AbortSignal): Promise<ObjectInfo[]> {
  return [await headObject(s3, parseS3Url(source.url), signal)];
}

// --objects N: the same rows cut into N objects under one prefix, for measuring the per-object cost of
// a many-file job against one object holding the same rows.
import { readFile } from 'node:fs/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client, s3Settings } from '../src/sources/s3/client.js';
import type { DataFile } from './data.js';
import { BUCKET, type S3Endpoint } from './s3.js';

export async function uploadAsObjects(s3: S3Endpoint, file: DataFile, objects: number): Promise<{ url: string; seconds: number }> {
  const t0 = performance.now();
  const text = await readFile(file.path);
  const client = createS3Client(s3Settings({
    s3Endpoint: s3.endpoint,
    s3Region: 'us-east-1',
    s3AccessKeyId: s3.accessKeyId,
    s3SecretAccessKey: s3.secretAccessKey,
    s3ForcePathStyle: true,
  }));
  // Cut at line ends into `objects` pieces of about the same number of lines.
  const ends: number[] = [];
  for (let i = text.indexOf(0x0a); i !== -1; i = text.indexOf(0x0a, i + 1)) ends.push(i + 1);
  const prefix = `objects-${file.rows}-${objects}/`;
  const per = Math.ceil(ends.length / objects);
  const jobs: Array<() => Promise<unknown>> = [];
  for (let k = 0; k * per < ends.length; k++) {
    const start = k === 0 ? 0 : ends[k * per - 1]!;
    const end = ends[Math.min((k + 1) * per, ends.length) - 1]!;
    const key = `${prefix}part-${String(k).padStart(5, '0')}.csv`;
    jobs.push(() => client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text.subarray(start, end) })));
  }
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < jobs.length) await jobs[next++]!();
  }));
  client.destroy();
  return { url: `s3://${BUCKET}/${prefix}`, seconds: (performance.now() - t0) / 1000 };
}

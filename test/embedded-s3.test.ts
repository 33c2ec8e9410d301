// The embedded S3 endpoint (demo, tests, benchmark) serves objects with reads larger than s3rver's
// own; whatever the read size, the bytes of a GET, a ranged GET, a HEAD and an empty object are S3's.
import { createHash, randomBytes } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import t from 'tap';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { mapLimit } from '../src/load/mapLimit.js';
import { EMBEDDED_READ_BYTES, startEmbeddedS3 } from '../src/dev/embeddedS3.js';
import { createS3Client, s3Settings } from '../src/sources/s3/client.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

t.test('GET, ranged GET, HEAD and an empty object from the embedded endpoint', async (t) => {
  const s3 = await startEmbeddedS3({ buckets: ['box'] });
  t.teardown(() => s3.stop());
  const client = createS3Client(s3Settings({ s3Endpoint: s3.endpoint, s3Region: 'us-east-1', s3AccessKeyId: s3.accessKeyId, s3SecretAccessKey: s3.secretAccessKey, s3ForcePathStyle: true }));
  t.teardown(() => client.destroy());
  // Several reads' worth, and not a multiple of the read size.
  const body = randomBytes(EMBEDDED_READ_BYTES * 3 + 12345);
  await client.send(new PutObjectCommand({ Bucket: 'box', Key: 'big.bin', Body: body }));
  await client.send(new PutObjectCommand({ Bucket: 'box', Key: 'empty.bin', Body: Buffer.alloc(0) }));

  const whole = await client.send(new GetObjectCommand({ Bucket: 'box', Key: 'big.bin' }));
  const got = await whole.Body!.transformToByteArray();
  t.equal(got.length, body.length, 'every byte');
  t.equal(sha(got), sha(body), 'the same bytes');

  const from = EMBEDDED_READ_BYTES - 7;
  const to = EMBEDDED_READ_BYTES * 2 + 100;
  const ranged = await client.send(new GetObjectCommand({ Bucket: 'box', Key: 'big.bin', Range: `bytes=${from}-${to}` }));
  const part = await ranged.Body!.transformToByteArray();
  t.equal(ranged.ContentRange, `bytes ${from}-${to}/${body.length}`);
  t.equal(sha(part), sha(body.subarray(from, to + 1)), 'a range across reads is exactly those bytes');

  const head = await client.send(new HeadObjectCommand({ Bucket: 'box', Key: 'big.bin' }));
  t.equal(head.ContentLength, body.length);

  const empty = await client.send(new GetObjectCommand({ Bucket: 'box', Key: 'empty.bin' }));
  t.equal((await empty.Body!.transformToByteArray()).length, 0, 'an empty object has no bytes');
});

t.test('ListObjectsV2 pages past 1,000 keys (s3rver alone fails with ERR_OSSL_EVP_UNSUPPORTED)', async (t) => {
  const s3 = await startEmbeddedS3({ buckets: ['box'] });
  t.teardown(() => s3.stop());
  const client = createS3Client(s3Settings({ s3Endpoint: s3.endpoint, s3Region: 'us-east-1', s3AccessKeyId: s3.accessKeyId, s3SecretAccessKey: s3.secretAccessKey, s3ForcePathStyle: true }));
  t.teardown(() => client.destroy());
  const keys = Array.from({ length: 2_500 }, (_, i) => `many/part-${String(i).padStart(5, '0')}.csv`);
  await mapLimit(keys, 16, new AbortController().signal, (key) => client.send(new PutObjectCommand({ Bucket: 'box', Key: key, Body: `${key}\n` })));
  await client.send(new PutObjectCommand({ Bucket: 'box', Key: 'other/x.csv', Body: 'x\n' }));
  const listed: string[] = [];
  const tokens: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'box', Prefix: 'many/', ContinuationToken: token, MaxKeys: 1000 }));
    listed.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (token) tokens.push(token);
  } while (token);
  t.equal(tokens.length, 2, 'three pages');
  t.equal(listed.length, 2_500, 'every key once');
  t.same(listed, keys, 'in order, none twice, none from another prefix');
  const small = await client.send(new ListObjectsV2Command({ Bucket: 'box', Prefix: 'many/', MaxKeys: 7, StartAfter: keys[10] }));
  t.same(small.Contents?.map((o) => o.Key), keys.slice(11, 18), 'MaxKeys and StartAfter still work');
  const bad = await client.send(new ListObjectsV2Command({ Bucket: 'box', ContinuationToken: 'bm9wZQ' })).then(() => undefined, (e) => e);
  t.ok(bad, 'a token it did not make is refused');
});

t.test('the client for large bodies: its GETs (whole, ranged, a key to encode, a listing, a missing key) through the project\'s own GET; a PUT and a HEAD still through node:http', async (t) => {
  const s3 = await startEmbeddedS3({ buckets: ['box'] });
  t.teardown(() => s3.stop());
  const settings = s3Settings({ s3Endpoint: s3.endpoint, s3Region: 'us-east-1', s3AccessKeyId: s3.accessKeyId, s3SecretAccessKey: s3.secretAccessKey, s3ForcePathStyle: true });
  const client = createS3Client(settings, { largeBodies: true });
  t.teardown(() => client.destroy());
  const body = randomBytes(EMBEDDED_READ_BYTES * 3 + 777);
  const key = 'dir/a key+with ü & ?.bin';
  await client.send(new PutObjectCommand({ Bucket: 'box', Key: key, Body: body }));
  const whole = await client.send(new GetObjectCommand({ Bucket: 'box', Key: key }));
  t.ok(whole.Body instanceof Readable && !(whole.Body instanceof IncomingMessage), 'the body is not node:http\'s');
  t.equal(sha(await whole.Body!.transformToByteArray()), sha(body), 'every byte of a key that needs encoding');
  const ranged = await client.send(new GetObjectCommand({ Bucket: 'box', Key: key, Range: 'bytes=100-2000099' }));
  t.equal(sha(await ranged.Body!.transformToByteArray()), sha(body.subarray(100, 2_000_100)), 'a range');
  t.equal(ranged.ContentRange, `bytes 100-2000099/${body.length}`);
  const head = await client.send(new HeadObjectCommand({ Bucket: 'box', Key: key }));
  t.equal(head.ContentLength, body.length, 'HEAD');
  const listed = await client.send(new ListObjectsV2Command({ Bucket: 'box', Prefix: 'dir/' }));
  t.same(listed.Contents?.map((o) => o.Key), [key], 'a listing parsed from its XML');
  const missing = await client.send(new GetObjectCommand({ Bucket: 'box', Key: 'dir/none.bin' })).then(() => undefined, (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e);
  t.equal(missing?.name, 'NoSuchKey', 'the store\'s error, read from the body');
  t.equal(missing?.$metadata?.httpStatusCode, 404);
});

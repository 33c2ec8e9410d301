// Watches fed by Cloud Storage (a Pub/Sub push subscription's messages, the embedded S3 server standing
// in for Cloud Storage's XML API) and Azure Blob Storage (Event Grid events and CloudEvents, against
// Azurite), in each provider's documented format, including Event Grid's two validation handshakes.
import t from 'tap';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { readSourceSettings } from '../src/sources/settings.js';
import { startAzurite } from './helpers/azurite.js';
import { createBucket, createHarness, waitForJob, type Harness } from './helpers/harness.js';
import { cloudEventBlobCreated, eventGridBlobCreated, eventGridValidation, postEvent, postWatch, pubSubPush } from './helpers/events.js';

const rows = (first: number, n: number): string => Array.from({ length: n }, (_, k) => `${first + k},row ${first + k}\n`).join('');
const sumTo = (n: number): string => String((n * (n + 1)) / 2);

async function counts(h: Harness, table: string): Promise<{ n: number; ids: number; sum: string }> {
  return (await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, coalesce(sum(id), 0)::bigint::text AS sum FROM ${table}`)).rows[0];
}

async function jobUrls(h: Harness): Promise<string[]> {
  return (await h.db.query('SELECT source_url FROM ingest.jobs WHERE queue = $1 ORDER BY source_url', [h.config.queueName])).rows.map((r) => r.source_url);
}

t.test('Cloud Storage: a marker watch loads the output when the Pub/Sub push for _SUCCESS arrives, once', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await createBucket(h.s3Client, 'gsland');
  const sources = readSourceSettings({ GCS_ENDPOINT: h.s3.endpoint, GCS_HMAC_ACCESS_ID: h.s3.accessKeyId, GCS_HMAC_SECRET: h.s3.secretAccessKey });
  const table = `${h.schema}.gcs`;
  await h.db.query(`CREATE TABLE ${table} (id int, note text)`);
  const svc = await h.start('all', { sources });
  t.equal((await postWatch(svc.url!, { name: 'dataproc', prefix: 'gs://gsland/jobs/', on: 'marker', job: { target: { table } } })).status, 201);
  /** Writes the object and returns its Pub/Sub push message. */
  const put = async (key: string, body: string): Promise<object> => {
    await h.s3Client.send(new PutObjectCommand({ Bucket: 'gsland', Key: key, Body: body }));
    const head = await h.s3Client.send(new HeadObjectCommand({ Bucket: 'gsland', Key: key }));
    return pubSubPush('gsland', key, head.ETag!.replace(/"/g, ''));
  };
  const parts = [await put('jobs/run-7/part-00000.csv', rows(1, 40)), await put('jobs/run-7/part-00001.csv', rows(41, 60))];
  for (const message of parts) t.same((await postEvent(`${svc.url}/events/gcs`, message)).body.jobs, [], 'a part starts nothing');
  t.same(await jobUrls(h), []);
  const marker = await put('jobs/run-7/_SUCCESS', '');
  const answers = await Promise.all([1, 2, 3].map(() => postEvent(`${svc.url}/events/gcs`, marker)));
  t.same([...new Set(answers.map((a) => a.status))], [200], 'Pub/Sub sees a success status');
  t.equal(answers.filter((a) => a.body.jobs[0]?.created).length, 1, 'three deliveries, one job');
  t.equal((await waitForJob(svc.url!, answers[0]!.body.jobs[0].id)).status, 'succeeded');
  t.same(await jobUrls(h), ['gs://gsland/jobs/run-7/']);
  t.same(await counts(h, table), { n: 100, ids: 100, sum: sumTo(100) });
  // An object deleted under the prefix: counted, ignored.
  const deleted = await postEvent(`${svc.url}/events/gcs`, pubSubPush('gsland', 'jobs/run-7/part-00000.csv', '00', 'OBJECT_DELETE'));
  t.same([deleted.status, deleted.body.matched, deleted.body.ignored], [200, 0, 1]);
  const bad = await postEvent(`${svc.url}/events/gcs`, { message: { data: 'e30=' } });
  t.same([bad.status, bad.body.error.code, bad.body.error.details.field], [400, 'INVALID_EVENT', '/message/attributes']);
});

t.test('Azure: Event Grid\'s validation handshakes, then BlobCreated as Event Grid events and CloudEvents load each blob once', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const azurite = await startAzurite();
  t.teardown(() => azurite.stop());
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('landing');
  await container.create();
  const table = `${h.schema}.az`;
  await h.db.query(`CREATE TABLE ${table} (id int, note text)`);
  const svc = await h.start('all', { sources: readSourceSettings({ AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString }) });
  const created = await postWatch(svc.url!, { name: 'blobs', prefix: 'az://landing/drop/', on: 'object', job: { target: { table } } });
  t.equal(created.status, 201, JSON.stringify(created.body));
  const hook = `${svc.url}/events/azure/blobs?secret=${created.body.secret}`;

  // Event Grid schema: the first delivery asks for the validation code back.
  const validation = await postEvent(hook, eventGridValidation('512d38b6-c7b8-40c8-89fe-f46f9e9622b6'));
  t.same([validation.status, validation.body], [200, { validationResponse: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6' }]);
  t.equal((await postEvent(`${svc.url}/events/azure/blobs`, eventGridValidation('x'))).status, 401, 'not without the secret');
  // CloudEvents schema: an OPTIONS request whose origin must be allowed back.
  const options = await fetch(hook, { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' } });
  t.equal(options.status, 200);
  t.equal(options.headers.get('webhook-allowed-origin'), 'eventgrid.azure.net');
  t.equal((await fetch(`${svc.url}/events/azure/blobs`, { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' } })).status, 401);

  const upload = async (key: string, body: string): Promise<{ url: string; eTag: string }> => {
    const blob = container.getBlockBlobClient(key);
    const res = await blob.upload(body, Buffer.byteLength(body));
    return { url: blob.url, eTag: res.etag!.replace(/"/g, '') };
  };
  const a = await upload('drop/a.csv', rows(1, 10));
  const b = await upload('drop/b.csv', rows(11, 15));
  const gridEvent = eventGridBlobCreated(azurite.account, 'landing', 'drop/a.csv', a.url, a.eTag);
  const cloudEvent = cloudEventBlobCreated(azurite.account, 'landing', 'drop/b.csv', b.url, b.eTag);
  const asCloudEvent = (body: unknown) => fetch(hook, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' }, body: JSON.stringify(body) });
  const answers = await Promise.all([
    postEvent(hook, [gridEvent]),
    postEvent(hook, [gridEvent]),
    asCloudEvent(cloudEvent).then(async (r) => ({ status: r.status, body: (await r.json()) as any })),
    asCloudEvent(cloudEvent).then(async (r) => ({ status: r.status, body: (await r.json()) as any })),
  ]);
  t.same(answers.map((x) => x.status), [200, 200, 200, 200]);
  t.same(await jobUrls(h), ['az://landing/drop/a.csv', 'az://landing/drop/b.csv'], 'one job per blob');
  for (const x of [answers[0]!, answers[2]!]) t.equal((await waitForJob(svc.url!, x.body.jobs[0].id)).status, 'succeeded');
  t.same(await counts(h, table), { n: 25, ids: 25, sum: sumTo(25) });
  const elsewhere = await postEvent(hook, [eventGridBlobCreated(azurite.account, 'other', 'drop/c.csv', `${azurite.endpoint}/other/drop/c.csv`, '0x1')]);
  t.same(elsewhere.body, { received: 1, matched: 0, ignored: 1, jobs: [] }, 'another container: the watch counts it as ignored');
  const watch = (await (await fetch(`${svc.url}/watches/blobs`)).json()) as any;
  t.same([watch.events.received, watch.events.matched, watch.events.ignored, watch.jobsStarted], [5, 4, 1, 2]);
  t.same(watch.jobs.map((j: any) => j.foundBy), ['event:azure', 'event:azure']);
});

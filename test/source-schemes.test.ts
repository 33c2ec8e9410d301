// Every source scheme through the whole service, against a real endpoint: Azure Blob (Azurite), Cloud
// Storage's S3-compatible API (the embedded S3 server standing in for storage.googleapis.com), a web
// server (http:// on loopback, allowed by name) and a mounted directory. Each loads one object, a
// Spark-style prefix behind its _SUCCESS marker, and a chunked object, exactly once.
import t from 'tap';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createBucket, createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';
import { startAzurite } from './helpers/azurite.js';
import { serveDirectory } from './helpers/httpFiles.js';
import { readSourceSettings } from '../src/sources/settings.js';

interface Scheme {
  name: string;
  put(key: string, body: string): Promise<void>;
  url(key: string): string;
  /** A web server cannot list: its prefix loads through the marker's manifest. */
  listable: boolean;
}

const rows = (first: number, n: number): string => Array.from({ length: n }, (_, k) => `${first + k},row ${first + k}\n`).join('');

t.test('az://, gs://, http(s):// and file:// each load an object, a prefix behind _SUCCESS and a chunked object, once', async (t) => {
  const h: Harness = await createHarness();
  t.teardown(() => h.close());
  const azurite = await startAzurite();
  t.teardown(() => azurite.stop());
  const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('landing');
  await blobs.create();
  await createBucket(h.s3Client, 'gsland');
  const webRoot = await mkdtemp(join(tmpdir(), 'ingest-web-'));
  const mounted = await mkdtemp(join(tmpdir(), 'ingest-mount-'));
  t.teardown(() => Promise.all([rm(webRoot, { recursive: true, force: true }), rm(mounted, { recursive: true, force: true })]));
  const web = await serveDirectory(webRoot);
  t.teardown(() => web.close());
  const writeUnder = async (root: string, key: string, body: string): Promise<void> => {
    await mkdir(dirname(join(root, key)), { recursive: true });
    await writeFile(join(root, key), body);
  };

  const schemes: Scheme[] = [
    { name: 'az', listable: true, put: async (key, body) => void (await blobs.getBlockBlobClient(key).upload(body, Buffer.byteLength(body))), url: (key) => `az://landing/${key}` },
    { name: 'gs', listable: true, put: async (key, body) => void (await h.s3Client.send(new PutObjectCommand({ Bucket: 'gsland', Key: key, Body: body }))), url: (key) => `gs://gsland/${key}` },
    { name: 'http', listable: false, put: (key, body) => writeUnder(webRoot, key, body), url: (key) => `${web.url}/${key}` },
    { name: 'file', listable: true, put: (key, body) => writeUnder(mounted, key, body), url: (key) => `file://${mounted}/${key}` },
  ];
  const sources = readSourceSettings({
    AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
    GCS_ENDPOINT: h.s3.endpoint,
    GCS_HMAC_ACCESS_ID: h.s3.accessKeyId,
    GCS_HMAC_SECRET: h.s3.secretAccessKey,
    HTTPS_ALLOWED_HOSTS: web.host,
    HTTPS_ALLOW_PLAIN_HTTP: 'true',
    LOCAL_SOURCE_ROOTS: mounted,
  });
  const svc = await h.start('all', { sources });
  // /readyz asks every configured source: S3 as objectStorage, the others by scheme.
  const ready = (await (await fetch(`${svc.url}/readyz`)).json()) as { checks: Record<string, string> };
  t.same(
    Object.fromEntries(['objectStorage', 'source:gs', 'source:az', 'source:https', 'source:http', 'source:file'].map((k) => [k, ready.checks[k]])),
    { objectStorage: 'ok', 'source:gs': 'ok', 'source:az': 'ok', 'source:https': 'ok', 'source:http': 'ok', 'source:file': 'ok' },
  );

  for (const s of schemes) {
    const table = `${h.schema}.t_${s.name}`;
    await h.db.query(`CREATE TABLE ${table} (id int, note text)`);
    const load = async (spec: object): Promise<any> => {
      const res = await postJob(svc.url!, { target: { table }, ...spec });
      t.equal(res.status, 202, `${s.name}: ${JSON.stringify(res.body)}`);
      return waitForJob(svc.url!, res.body.id, undefined, 120_000);
    };
    const count = async (): Promise<{ n: number; ids: number; sum: string }> =>
      (await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, coalesce(sum(id), 0)::bigint::text AS sum FROM ${table}`)).rows[0];
    const sumTo = (n: number): string => String((n * (n + 1)) / 2);

    // One object, then again: the ledger skips it.
    await s.put('one.csv', rows(1, 100));
    const one = await load({ source: { url: s.url('one.csv') } });
    t.equal(one.status, 'succeeded', `${s.name} one: ${JSON.stringify(one.error)}`);
    const oneAgain = await load({ source: { url: s.url('one.csv') } });
    t.equal(oneAgain.result.filesSkipped, 1, `${s.name}: the object is in the ledger`);
    t.same(await count(), { n: 100, ids: 100, sum: sumTo(100) }, `${s.name}: one object, once`);

    // A Spark-style directory: part files, a .crc, a stray file the glob leaves out, then _SUCCESS.
    await s.put('out/part-00000.csv', rows(101, 50));
    await s.put('out/part-00001.csv', rows(151, 70));
    await s.put('out/.part-00000.csv.crc', 'crc');
    await s.put('out/notes.txt', 'not,data,at,all\n');
    await s.put('out/_SUCCESS', s.listable ? '' : JSON.stringify({ filenames: ['part-00000.csv', 'part-00001.csv'] }));
    const prefix = await load({ source: { url: s.url('out/'), waitForMarker: '_SUCCESS', ...(s.listable ? { pattern: 'part-*.csv' } : {}) } });
    t.equal(prefix.status, 'succeeded', `${s.name} prefix: ${JSON.stringify(prefix.error)}`);
    t.equal(prefix.result.filesLoaded, 2, `${s.name}: the two part files`);
    t.same(await count(), { n: 220, ids: 220, sum: sumTo(220) }, `${s.name}: the prefix's rows, once`);

    // A chunked object over two streams (range reads), then again: every chunk is in the ledger.
    await s.put('big.csv', rows(221, 20_000));
    const chunked = { source: { url: s.url('big.csv') }, atomicity: 'chunk', streams: 2, chunkBytes: 65536 };
    const big = await load(chunked);
    t.equal(big.status, 'succeeded', `${s.name} chunked: ${JSON.stringify(big.error)}`);
    const bigAgain = await load(chunked);
    t.equal(bigAgain.result.filesSkipped, 1, `${s.name}: the chunked object is in the ledger`);
    t.same(await count(), { n: 20_220, ids: 20_220, sum: sumTo(20_220) }, `${s.name}: the chunked object's rows, once`);
    const ledger = await h.db.query(
      `SELECT (SELECT count(*)::int FROM ingest.chunk_ledger WHERE target = $1 AND scheme = $2) AS chunks,
              (SELECT count(*)::int FROM ingest.file_ledger WHERE target = $1 AND scheme = $2) AS files`,
      [`"${h.schema}"."t_${s.name}"`, s.name],
    );
    t.ok(ledger.rows[0].chunks > 1, `${s.name}: ${ledger.rows[0].chunks} chunks in the chunk ledger`);
    t.equal(ledger.rows[0].files, 4, `${s.name}: one ledger row per object, under scheme ${s.name}`);
  }
});

t.test('a scheme the service has no settings for is refused at submit, naming it', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start();
  for (const url of ['az://landing/a.csv', 'gs://landing/a.csv', 'https://example.org/a.csv', 'file:///data/a.csv']) {
    const res = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.t` } });
    t.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
    t.equal(res.body.error.code, 'SOURCE_NOT_CONFIGURED', url);
  }
});

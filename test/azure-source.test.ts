// The Azure Blob source against a real blob endpoint (Azurite on loopback): az:// and abfss:// URLs name
// one object each, and head, list, open (pinned to the ETag, whole or a range), readText, the container
// allow-list and ping answer with Azurite's own bytes and values, or fail with the code the job needs.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import t from 'tap';
import type { ContainerClient } from '@azure/storage-blob';
import { createAzureClient } from '../src/sources/azure/client.js';
import { azureSettings } from '../src/sources/azure/settings.js';
import { AzureSource } from '../src/sources/azure/source.js';
import { azScheme } from '../src/sources/azure/url.js';
import type { ObjectRef } from '../src/sources/source.js';
import { startAzurite, type Azurite } from './helpers/azurite.js';
import { listAll } from '../src/sources/listing.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const bytesOf = async (stream: Readable): Promise<Buffer> => Buffer.concat(await stream.toArray());
const signal = (): AbortSignal => new AbortController().signal;

/** What a promise rejected with; fails the test when it resolved. */
async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('resolved, but a failure was expected');
}

function sourceFor(az: Azurite, options: { allowedContainers?: string[]; key?: string } = {}): AzureSource {
  const env = options.key === undefined
    ? { AZURE_STORAGE_CONNECTION_STRING: az.connectionString }
    : { AZURE_STORAGE_ACCOUNT: az.account, AZURE_STORAGE_KEY: options.key, AZURE_STORAGE_ENDPOINT: az.endpoint };
  const settings = azureSettings(env)!;
  return new AzureSource({ client: createAzureClient(settings), allowedContainers: options.allowedContainers ?? settings.allowedContainers, listPageSize: 2 });
}

t.test('az:// and abfss:// URLs parse to refs that print back to themselves', async (t) => {
  t.same(azScheme.parse('az://landing/out/part-0.csv', '/source/url'), { scheme: 'az', container: 'landing', key: 'out/part-0.csv' });
  t.same(azScheme.parse('abfss://landing@myacct.dfs.core.windows.net/out/', '/source/url'), { scheme: 'az', container: 'myacct/landing', key: 'out/' });
  t.same(azScheme.parse('abfs://landing@MyAcct.DFS.core.windows.net/a.csv', '/source/url'), { scheme: 'az', container: 'myacct/landing', key: 'a.csv' }, 'host names are case-insensitive');
  t.same(azScheme.parse('wasbs://landing@myacct.blob.core.windows.net/a b.csv', '/source/url'), { scheme: 'az', container: 'myacct/landing', key: 'a b.csv' });
  for (const url of ['az://landing/out/part-0.csv', 'az://my-data-2/x/', 'abfss://landing@myacct.dfs.core.windows.net/out/y.csv']) {
    const ref = azScheme.parse(url, '/source/url');
    t.equal(azScheme.url(ref), url, `${url} prints back as written`);
    t.same(azScheme.parse(azScheme.url(ref), '/source/url'), ref, `${url} round-trips`);
  }
  t.equal(azScheme.url(azScheme.parse('wasbs://landing@myacct.blob.core.windows.net/a.csv', '/f')), 'abfss://landing@myacct.dfs.core.windows.net/a.csv', 'wasbs:// prints as its abfss:// twin');
});

t.test('URLs with dot segments, no key, a bad container or a foreign host are INVALID_SPEC naming the field', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['az://landing/out/../secret.csv', /"\.\." path segment/],
    ['az://landing/out/%2e%2e/secret.csv', /"\.\." path segment/],
    ['abfss://landing@myacct.dfs.core.windows.net/./x.csv', /"\." path segment/],
    ['az://landing/', /no key or prefix/],
    ['abfss://landing@myacct.dfs.core.windows.net/', /no key or prefix/],
    ['az://landing//x.csv', /starts with "\/"/],
    ['az://Landing/x.csv', /not an Azure container name/],
    ['az://ab/x.csv', /not an Azure container name/],
    ['az://land--ing/x.csv', /not an Azure container name/],
    ['az://landing-/x.csv', /not an Azure container name/],
    [`az://${'a'.repeat(64)}/x.csv`, /not an Azure container name/],
    ['abfss://landing@myacct.blob.core.windows.net/x.csv', /not a storage account's abfss:\/\/ endpoint/],
    ['wasbs://landing@myacct.dfs.core.windows.net/x.csv', /not a storage account's wasbs:\/\/ endpoint/],
    ['abfss://landing@evil.example.com/x.csv', /not a storage account's abfss:\/\/ endpoint/],
    ['abfss://landing@my_acct.dfs.core.windows.net/x.csv', /not a storage account's abfss:\/\/ endpoint/],
    ['abfss://myacct.dfs.core.windows.net/x.csv', /not an Azure Blob Storage URL/],
  ];
  for (const [url, why] of bad) {
    const err = await failure((async () => azScheme.parse(url, '/source/url'))());
    t.equal(err.code, 'INVALID_SPEC', url);
    t.match(err.message, why, url);
    t.equal(err.details?.field, '/source/url', `${url}: names the field`);
  }
});

t.test('settings: a connection string, or an account and its key; half of them is an error naming the variables', async (t) => {
  t.equal(azureSettings({}), undefined, 'Azure not configured');
  t.equal(azureSettings({ AZURE_STORAGE_ACCOUNT: '', AZURE_STORAGE_KEY: '' }), undefined, 'empty counts as unset');
  t.same(azureSettings({ AZURE_STORAGE_ACCOUNT: 'myacct', AZURE_STORAGE_KEY: 'a2V5', AZURE_ALLOWED_CONTAINERS: 'landing, raw' }), {
    credentials: { kind: 'sharedKey', account: 'myacct', key: 'a2V5', endpoint: undefined },
    allowedContainers: ['landing', 'raw'],
  });
  t.throws(() => azureSettings({ AZURE_STORAGE_ACCOUNT: 'myacct' }), /AZURE_STORAGE_ACCOUNT is set without AZURE_STORAGE_KEY/);
  t.throws(() => azureSettings({ AZURE_STORAGE_KEY: 'a2V5' }), /AZURE_STORAGE_KEY is set without AZURE_STORAGE_ACCOUNT/);
  t.throws(() => azureSettings({ AZURE_STORAGE_CONNECTION_STRING: 'AccountName=a;AccountKey=b', AZURE_STORAGE_ACCOUNT: 'myacct' }), /not both/);
  t.throws(() => azureSettings({ AZURE_STORAGE_ENDPOINT: 'http://127.0.0.1:10000/x' }), /AZURE_STORAGE_ENDPOINT is set but Azure is not/);
  t.throws(() => azureSettings({ AZURE_STORAGE_CONNECTION_STRING: 'AccountName=a;AccountKey=b', AZURE_ALLOWED_CONTAINERS: 'landing,Bad_Name' }), /"Bad_Name", which is not an Azure container name/);
  t.throws(() => azureSettings({ AZURE_STORAGE_CONNECTION_STRING: 'secret-without-shape' }), /neither AccountName= nor BlobEndpoint=/);
});

t.test('against Azurite', async (t) => {
  const az = await startAzurite();
  t.teardown(() => az.stop());
  const source = sourceFor(az);
  const account = az.account;
  const fresh = async (): Promise<{ name: string; container: ContainerClient }> => {
    const name = `t-${randomUUID().slice(0, 8)}`;
    const container = source.service.getContainerClient(name);
    await container.create();
    return { name, container };
  };
  const put = async (c: ContainerClient, key: string, body: string | Buffer, contentEncoding?: string): Promise<string> => {
    const up = await c.getBlockBlobClient(key).upload(body, Buffer.byteLength(body), contentEncoding ? { blobHTTPHeaders: { blobContentEncoding: contentEncoding } } : {});
    return up.etag!.replace(/"/g, '');
  };

  t.test('head gives size, the ETag as version and the encoding, under "account/container" whichever URL spelled it', async (t) => {
    const { name, container } = await fresh();
    const body = 'a,b\n1,2\n3,4\n';
    const etag = await put(container, 'in/data.csv.gz', body, 'gzip');
    const info = await source.head(azScheme.parse(`az://${name}/in/data.csv.gz`, '/source/url'));
    t.equal(info.size, body.length);
    t.equal(info.version, etag);
    t.match(info.version, /^0x[0-9A-F]+$/, 'an unquoted Azure ETag');
    t.equal(info.contentEncoding, 'gzip');
    t.equal(info.container, `${account}/${name}`);
    t.equal(info.key, 'in/data.csv.gz');
    t.ok(info.lastModified instanceof Date && Math.abs(info.lastModified.getTime() - Date.now()) < 60_000, 'lastModified is now');
    const viaAbfss = await source.head(azScheme.parse(`abfss://${name}@${account}.dfs.core.windows.net/in/data.csv.gz`, '/source/url'));
    t.same(viaAbfss, info, 'the abfss:// spelling is the same object');
    t.equal(source.url(info), `abfss://${name}@${account}.dfs.core.windows.net/in/data.csv.gz`);
    const other = await failure(source.head(azScheme.parse(`abfss://${name}@otheracct.dfs.core.windows.net/in/data.csv.gz`, '/f')));
    t.equal(other.code, 'SOURCE_FORBIDDEN', 'another account is refused');
    t.match(other.message, /names storage account otheracct, but this service reads account devstoreaccount1/);
  });

  t.test('list pages through every blob below a prefix, markers and .crc files included, placeholders not', async (t) => {
    const { name, container } = await fresh();
    const expected = new Map<string, { size: number; version: string }>();
    const keys = ['out/part-00000.csv', 'out/part-00001.csv', 'out/part-00002.csv', 'out/part-00003.csv', 'out/part-00004.csv',
      'out/.part-00000.csv.crc', 'out/_SUCCESS', 'out/sub/part-00005.csv'];
    for (const [i, key] of keys.entries()) {
      const body = key.endsWith('_SUCCESS') ? '' : `${i},${key}\n`.repeat(i + 1);
      expected.set(key, { size: body.length, version: await put(container, key, body) });
    }
    await put(container, 'out/dir/', '');
    await put(container, 'outside.csv', 'x\n');
    await put(container, 'other/part-00000.csv', 'y\n');
    const listed = await listAll(source.list({ scheme: 'az', container: name, key: 'out/' }, signal()));
    t.same(listed.map((o) => o.key).sort(), [...keys].sort(), 'all eight blobs, through pages of two');
    for (const o of listed) {
      t.equal(o.container, `${account}/${name}`);
      t.same({ size: o.size, version: o.version }, expected.get(o.key), `${o.key}: size and ETag`);
    }
    const pages: number[] = [];
    for await (const page of source.list({ scheme: 'az', container: name, key: 'out/' }, signal())) pages.push(page.length);
    t.ok(pages.length >= 4, `handed out a page at a time as listed (${pages.join(', ')})`);
    t.same(await listAll(source.list({ scheme: 'az', container: name, key: 'nothing/' }, signal())), [], 'an empty prefix lists nothing');
  });

  t.test('open reads the whole blob or exactly a range, pinned to the listed ETag', async (t) => {
    const { name, container } = await fresh();
    const body = randomBytes(300_000 + 17);
    await put(container, 'big.bin', body);
    const info = await source.head({ scheme: 'az', container: name, key: 'big.bin' });
    const whole = await bytesOf(await source.open(info));
    t.equal(whole.length, body.length);
    t.equal(sha(whole), sha(body), 'the same bytes');
    const part = await bytesOf(await source.open(info, { start: 1_000, end: 250_001 }));
    t.equal(part.length, 249_001);
    t.equal(sha(part), sha(body.subarray(1_000, 250_001)), 'exactly the slice');
    const last = await bytesOf(await source.open(info, { start: body.length - 5, end: body.length }));
    t.same([...last], [...body.subarray(body.length - 5)], 'the last five bytes');
    t.equal((await bytesOf(await source.open(info, { start: 10, end: 10 }))).length, 0, 'an empty range');

    await put(container, 'big.bin', randomBytes(1_000));
    const changed = await failure(source.open(info));
    t.equal(changed.code, 'SOURCE_CHANGED', 'a rewritten blob is not read');
    t.match(changed.message, /was rewritten after it was listed/);
    t.equal((await failure(source.open(info, { start: 0, end: 100 }))).code, 'SOURCE_CHANGED', 'nor a range of it');
  });

  t.test('a missing blob, a missing container and a wrong key fail with their own codes', async (t) => {
    const { name } = await fresh();
    const blob = await failure(source.head({ scheme: 'az', container: name, key: 'missing.csv' }));
    t.equal(blob.code, 'SOURCE_NOT_FOUND');
    t.match(blob.message, `blob abfss://${name}@${account}.dfs.core.windows.net/missing.csv does not exist`);
    t.equal(blob.details?.azureError, 'BlobNotFound');
    const opened = await failure(source.open({ scheme: 'az', container: `${account}/${name}`, key: 'missing.csv', size: 3, version: '0x1', contentEncoding: undefined }));
    t.equal(opened.code, 'SOURCE_NOT_FOUND', 'a listed blob deleted before open');
    t.match(opened.message, /missing\.csv was deleted after it was listed/);

    for (const [what, p] of [
      ['head', source.head({ scheme: 'az', container: 'no-such-container', key: 'x.csv' })],
      ['list', listAll(source.list({ scheme: 'az', container: 'no-such-container', key: 'out/' }, signal()))],
    ] as const) {
      const err = await failure(p);
      t.equal(err.code, 'SOURCE_NOT_FOUND', what);
      t.match(err.message, /container no-such-container does not exist in storage account devstoreaccount1/, what);
      t.equal(err.details?.container, 'no-such-container', what);
    }

    await put(source.service.getContainerClient(name), 'x.csv', 'x\n');
    const wrongKey = sourceFor(az, { key: Buffer.from('not the key').toString('base64') });
    const denied = await failure(wrongKey.head({ scheme: 'az', container: name, key: 'x.csv' }));
    t.equal(denied.code, 'SOURCE_ACCESS_DENIED');
    t.match(denied.message, /AZURE_STORAGE_CONNECTION_STRING \(or AZURE_STORAGE_ACCOUNT \+ AZURE_STORAGE_KEY\)/);
  });

  t.test('readText returns a marker\'s text, undefined for a missing marker, and fails for a missing container', async (t) => {
    const { name, container } = await fresh();
    const manifest = JSON.stringify({ filenames: ['part-00000.csv'], note: 'ünïcode' });
    await put(container, 'out/_SUCCESS', manifest);
    t.equal(await source.readText({ scheme: 'az', container: name, key: 'out/_SUCCESS' }, signal()), manifest);
    t.equal(await source.readText({ scheme: 'az', container: name, key: 'later/_SUCCESS' }, signal()), undefined);
    const err = await failure(source.readText({ scheme: 'az', container: 'gone-container', key: 'out/_SUCCESS' }, signal()));
    t.equal(err.code, 'SOURCE_NOT_FOUND');
    t.equal(err.details?.container, 'gone-container');
  });

  t.test('checkAllowed refuses a container outside AZURE_ALLOWED_CONTAINERS, and another account, before any request', async (t) => {
    const limited = sourceFor(az, { allowedContainers: ['landing'] });
    const ref = (container: string): ObjectRef => ({ scheme: 'az', container, key: 'x.csv' });
    limited.checkAllowed(ref('landing'));
    limited.checkAllowed(ref(`${account}/landing`));
    const outside = await failure((async () => limited.checkAllowed(ref('secrets')))());
    t.equal(outside.code, 'SOURCE_FORBIDDEN');
    t.match(outside.message, 'container secrets is not in AZURE_ALLOWED_CONTAINERS (landing)');
    t.equal(outside.details?.container, 'secrets');
    t.equal((await failure((async () => limited.checkAllowed(ref('otheracct/landing')))())).code, 'SOURCE_FORBIDDEN');
    t.pass('landing is allowed, in both spellings');
  });
});

t.test('ping answers while Azurite runs and fails once it is stopped', async (t) => {
  const az = await startAzurite();
  t.teardown(() => az.stop());
  const source = sourceFor(az);
  await source.ping(signal());
  await az.stop();
  const err = await failure(source.ping(signal()));
  t.equal(err.code, 'SOURCE_UNAVAILABLE');
  t.match(err.message, /storage account devstoreaccount1 at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/? did not answer/);
});

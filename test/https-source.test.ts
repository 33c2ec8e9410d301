// The https:// source against a real HTTP server on loopback: sizes and versions from HEAD, pinned and
// ranged GETs, the allow-list on every redirect hop, the special-address check, and the error codes.
import t from 'tap';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { IngestError } from '../src/errors.js';
import { HttpsSource } from '../src/sources/https/source.js';
import { httpsSettings } from '../src/sources/https/settings.js';
import { httpScheme, httpsScheme } from '../src/sources/https/url.js';
import type { ObjectRef } from '../src/sources/source.js';
import { listAll } from '../src/sources/listing.js';

interface Served {
  body: Buffer;
  etag?: string;
  lastModified?: string;
  /** Serves Range requests (206); otherwise answers 200 with the whole body. */
  ranges?: boolean;
  /** Honours If-Match / If-Unmodified-Since; otherwise ignores them. */
  preconditions?: boolean;
  encoding?: string;
  status?: number;
  location?: string;
  /** Sends the headers and half the body, then drops the connection. */
  cut?: boolean;
}

function serve(objects: Map<string, Served>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const o = objects.get(req.url ?? '');
    if (!o) return void res.writeHead(404).end('not found');
    if (o.status) return void res.writeHead(o.status, o.location ? { location: o.location } : {}).end();
    const headers: Record<string, string | number> = {};
    if (o.etag) headers.etag = o.etag;
    if (o.lastModified) headers['last-modified'] = o.lastModified;
    if (o.encoding) headers['content-encoding'] = o.encoding;
    if (o.preconditions !== false) {
      const ifMatch = req.headers['if-match'];
      const ifUnmodified = req.headers['if-unmodified-since'];
      if ((ifMatch && ifMatch !== o.etag) || (ifUnmodified && o.lastModified && Date.parse(o.lastModified) > Date.parse(ifUnmodified))) {
        return void res.writeHead(412).end();
      }
    }
    let body = o.body;
    let status = 200;
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (range && o.ranges !== false) {
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), o.body.length - 1);
      body = o.body.subarray(start, end + 1);
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${o.body.length}`;
    }
    headers['content-length'] = body.length;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return void res.end();
    if (o.cut) {
      res.write(body.subarray(0, body.length >> 1));
      return void setTimeout(() => res.destroy(), 20);
    }
    res.end(body);
  };
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const csv = Buffer.from('id,name\n1,alpha\n2,beta\n3,gamma\n4,delta\n');
const lastModified = 'Tue, 02 Jan 2024 03:04:05 GMT';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const objects = new Map<string, Served>([
    ['/data/a.csv', { body: csv, etag: '"v1"', lastModified }],
    ['/norange/a.csv', { body: csv, etag: '"n1"', ranges: false }],
    ['/lm/a.csv', { body: csv, lastModified }],
    ['/none/a.csv', { body: csv }],
    ['/weak/a.csv', { body: csv, etag: 'W/"w1"', lastModified, preconditions: false }],
    ['/gz/a.csv.gz', { body: gzipSync(csv), etag: '"g1"', encoding: 'gzip' }],
    ['/private/a.csv', { body: csv, status: 403 }],
    ['/broken/a.csv', { body: csv, status: 503 }],
    ['/cut/a.csv', { body: Buffer.alloc(1 << 20, 'x'), etag: '"c1"', cut: true }],
    ['/marker/_SUCCESS', { body: Buffer.from('{"filenames":[]}'), etag: '"m1"' }],
    ['/loop', { body: csv, status: 302, location: '/loop' }],
  ]);
  const main = await listen(serve(objects));
  const other = await listen(serve(new Map([['/mirror/a.csv', { body: Buffer.from('mirrored\n'), etag: '"o1"' }]])));
  t.teardown(() => new Promise<void>((resolve) => main.server.close(() => other.server.close(() => resolve()))));
  objects.set('/to-other', { body: csv, status: 302, location: `http://${other.host}/mirror/a.csv` });
  objects.set('/to-same', { body: csv, status: 301, location: '/data/a.csv' });
  objects.set('/to-outside', { body: csv, status: 307, location: 'https://not-allowed.example/a.csv' });
  objects.set('/to-metadata', { body: csv, status: 302, location: 'http://169.254.169.254/latest/meta-data/' });
  // Plain http on loopback: the allow-list names the test servers by address, which lets loopback through.
  const settings = httpsSettings({ HTTPS_ALLOWED_HOSTS: `${main.host}, ${other.host}`, HTTPS_ALLOW_PLAIN_HTTP: 'true' })!;
  const source = new HttpsSource({ parser: httpScheme, settings, timeoutMs: 5000 });
  const ref = (path: string): ObjectRef => httpScheme.parse(`http://${main.host}${path}`, '/source/url');
  return { objects, main, other, settings, source, ref };
}

const code = (c: string) => (err: unknown) => err instanceof IngestError && err.code === c;

t.test('head reports size, ETag version and Last-Modified; open streams the bytes, whole or a range', async (t) => {
  const { source, ref } = await setup(t);
  const info = await source.head(ref('/data/a.csv'));
  t.equal(info.size, csv.length);
  t.equal(info.version, '"v1"');
  t.same(info.lastModified, new Date(lastModified));
  t.equal(info.contentEncoding, undefined);
  t.equal(await text(await source.open(info)), csv.toString());
  t.equal(await text(await source.open(info, { start: 8, end: 16 })), csv.subarray(8, 16).toString());
  t.equal(await text(await source.open(info, { start: 0, end: csv.length })), csv.toString(), 'a range covering the object is a plain GET');
  t.equal(await text(await source.open(info, { start: 5, end: 5 })), '', 'an empty range reads nothing');
});

t.test('without an ETag the version is Last-Modified; with neither the object is refused as unversioned', async (t) => {
  const { source, ref } = await setup(t);
  const info = await source.head(ref('/lm/a.csv'));
  t.equal(info.version, lastModified);
  t.equal(await text(await source.open(info, { start: 0, end: 7 })), 'id,name');
  await t.rejects(source.head(ref('/none/a.csv')), { code: 'SOURCE_UNVERSIONED', message: /neither ETag nor Last-Modified/ });
});

t.test('a server that ignores ranges fails a ranged open with SOURCE_RANGE_UNSUPPORTED, and still serves the whole object', async (t) => {
  const { source, ref } = await setup(t);
  const info = await source.head(ref('/norange/a.csv'));
  await t.rejects(source.open(info, { start: 8, end: 16 }), { code: 'SOURCE_RANGE_UNSUPPORTED', message: /ignores byte ranges.*atomicity "chunk"/ });
  t.equal(await text(await source.open(info)), csv.toString());
});

t.test('an object rewritten between head and open fails with SOURCE_CHANGED, whether the server checks If-Match or not', async (t) => {
  const { source, ref, objects } = await setup(t);
  const info = await source.head(ref('/data/a.csv'));
  objects.set('/data/a.csv', { body: Buffer.from('id,name\n9,new\n'), etag: '"v2"', lastModified });
  await t.rejects(source.open(info), { code: 'SOURCE_CHANGED' });
  await t.rejects(source.open(info, { start: 0, end: 4 }), { code: 'SOURCE_CHANGED' });

  const weak = await source.head(ref('/weak/a.csv'));
  t.equal(weak.version, 'W/"w1"');
  t.equal(await text(await source.open(weak)), csv.toString(), 'a weak ETag is pinned by date and compared by hand');
  objects.set('/weak/a.csv', { body: csv, etag: 'W/"w2"', lastModified, preconditions: false });
  await t.rejects(source.open(weak), { code: 'SOURCE_CHANGED' }, 'the server ignored the precondition; the answer\'s ETag tells');

  const lm = await source.head(ref('/lm/a.csv'));
  objects.set('/lm/a.csv', { body: csv, lastModified: 'Wed, 03 Jan 2024 00:00:00 GMT' });
  await t.rejects(source.open(lm), { code: 'SOURCE_CHANGED' });
});

t.test('bytes arrive as stored: a gzip Content-Encoding is reported, not decoded', async (t) => {
  const { source, ref, objects } = await setup(t);
  const info = await source.head(ref('/gz/a.csv.gz'));
  t.equal(info.contentEncoding, 'gzip');
  const stored = objects.get('/gz/a.csv.gz')!.body;
  t.equal(info.size, stored.length);
  const chunks: Buffer[] = [];
  for await (const chunk of await source.open(info)) chunks.push(chunk as Buffer);
  t.same(Buffer.concat(chunks), stored);
});

t.test('status codes map to error codes: 404, 403, 503, a connection cut mid-body', async (t) => {
  const { source, ref } = await setup(t);
  await t.rejects(source.head(ref('/missing.csv')), { code: 'SOURCE_NOT_FOUND' });
  await t.rejects(source.head(ref('/private/a.csv')), { code: 'SOURCE_ACCESS_DENIED' });
  const unavailable = await source.head(ref('/broken/a.csv')).catch((err: unknown) => err);
  t.ok(code('SOURCE_UNAVAILABLE')(unavailable));
  t.equal((unavailable as IngestError).retryable, true);
  const cut = await source.head(ref('/cut/a.csv'));
  await t.rejects(text(await source.open(cut)), { code: 'SOURCE_UNAVAILABLE', message: /reading .*cut\/a\.csv failed/ });
});

t.test('readText returns a marker\'s text, and undefined for a missing one', async (t) => {
  const { source, ref } = await setup(t);
  const signal = AbortSignal.timeout(5000);
  t.equal(await source.readText(ref('/marker/_SUCCESS'), signal), '{"filenames":[]}');
  t.equal(await source.readText(ref('/marker/_MISSING'), signal), undefined);
});

t.test('redirects are followed to allowed hosts only, at most 3', async (t) => {
  const { source, ref, other } = await setup(t);
  t.equal((await source.head(ref('/to-same'))).version, '"v1"');
  const moved = await source.head(ref('/to-other'));
  t.equal(moved.version, '"o1"');
  t.equal(moved.key, 'to-other', 'the object keeps the URL the spec named');
  t.equal(await text(await source.open(moved)), 'mirrored\n');
  await t.rejects(source.head(ref('/to-outside')), { code: 'SOURCE_FORBIDDEN', message: /host not-allowed\.example \(a redirect from 127\.0\.0\.1:\d+\) is not in HTTPS_ALLOWED_HOSTS/ });
  await t.rejects(source.head(ref('/to-metadata')), { code: 'SOURCE_FORBIDDEN', message: /169\.254\.169\.254/ });
  await t.rejects(source.head(ref('/loop')), { code: 'SOURCE_UNAVAILABLE', message: /more than 3 redirects/ });
  t.ok(other.host);
});

t.test('the allow-list: unlisted hosts, plain http, and names resolving to special addresses are refused', async (t) => {
  const { source, ref, main, settings } = await setup(t);
  t.throws(() => source.checkAllowed(httpScheme.parse('http://example.org/a.csv', 'f')), { code: 'SOURCE_FORBIDDEN', message: /example\.org is not in HTTPS_ALLOWED_HOSTS/ });
  t.doesNotThrow(() => source.checkAllowed(ref('/data/a.csv')));

  const strict = new HttpsSource({ parser: httpScheme, settings: { ...settings, allowPlainHttp: false } });
  t.throws(() => strict.checkAllowed(ref('/data/a.csv')), { code: 'SOURCE_FORBIDDEN', message: /HTTPS_ALLOW_PLAIN_HTTP/ });
  await t.rejects(strict.head(ref('/data/a.csv')), { code: 'SOURCE_FORBIDDEN' });

  // "localhost" is allowed by name, but it resolves to loopback, which no entry names as an address.
  const port = main.host.split(':')[1];
  const byName = new HttpsSource({ parser: httpScheme, settings: { allowedHosts: [`localhost:${port}`], allowPlainHttp: true } });
  const local = httpScheme.parse(`http://localhost:${port}/data/a.csv`, 'f');
  t.doesNotThrow(() => byName.checkAllowed(local));
  await t.rejects(byName.head(local), { code: 'SOURCE_FORBIDDEN', message: /host localhost:\d+ resolves to .*special address/ });

  const listed = new HttpsSource({ parser: httpScheme, settings: { allowedHosts: [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`], allowPlainHttp: true } });
  const info = await listed.head(local);
  t.equal(info.version, '"v1"', 'naming the addresses lets them through');
  // A GET is checked at connect time as a HEAD is.
  await t.rejects(byName.open(info), { code: 'SOURCE_FORBIDDEN', message: /host localhost:\d+ resolves to .*special address/ });
  await t.rejects(byName.readText(local, new AbortController().signal), { code: 'SOURCE_FORBIDDEN' });
  t.equal(await text(await listed.open(info)), csv.toString(), 'a GET by name to a listed address');
});

t.test('list refuses: a web server cannot be listed', async (t) => {
  const { source, ref } = await setup(t);
  const prefix = ref('/data/');
  await t.rejects(listAll(source.list(prefix, AbortSignal.timeout(1000))), { code: 'INVALID_SPEC', message: /load single objects/ });
});

t.test('the parser: host lower-cased, path kept, queries, fragments, credentials and dot segments refused', async (t) => {
  t.same(httpsScheme.parse('https://Data.Example.ORG:8443/sets/a%20b.csv', 'f'), { scheme: 'https', container: 'data.example.org:8443', key: 'sets/a%20b.csv' });
  t.same(httpsScheme.parse('https://example.org:443/x/', 'f'), { scheme: 'https', container: 'example.org', key: 'x/' });
  t.equal(httpsScheme.url({ scheme: 'https', container: 'example.org', key: 'x/y.csv' }), 'https://example.org/x/y.csv');
  for (const bad of [
    'https://example.org/a.csv?sig=secret',
    'https://example.org/a.csv#part',
    'https://user:pw@example.org/a.csv',
    'https://example.org/',
    'https://example.org',
    'https://example.org/a/../b.csv',
    'https://example.org/a/%2e%2e/b.csv',
    'https://example.org/a\\..\\b.csv',
    'https://example.org/a\n.csv',
    'https:///a.csv',
  ]) {
    t.throws(() => httpsScheme.parse(bad, '/source/url'), { code: 'INVALID_SPEC' }, JSON.stringify(bad));
  }
  t.throws(() => httpsScheme.parse('http://example.org/a.csv', 'f'), { code: 'INVALID_SPEC' }, 'http:// is its own scheme');
});

t.test('settings: off without HTTPS_ALLOWED_HOSTS; entries normalized like URL hosts', async (t) => {
  t.equal(httpsSettings({}), undefined);
  t.equal(httpsSettings({ HTTPS_ALLOWED_HOSTS: ' , ' }), undefined);
  t.same(httpsSettings({ HTTPS_ALLOWED_HOSTS: 'Data.Example.org, example.org:443, mirror:8080, [::1]:80' }), {
    allowedHosts: ['data.example.org', 'example.org', 'mirror:8080', '[::1]'],
    allowPlainHttp: false,
  });
  t.throws(() => httpsSettings({ HTTPS_ALLOWED_HOSTS: 'example.org/path' }), /HTTPS_ALLOWED_HOSTS entry "example.org\/path"/);
  t.throws(() => httpsSettings({ HTTPS_ALLOWED_HOSTS: 'a', HTTPS_ALLOW_PLAIN_HTTP: 'yes' }), /HTTPS_ALLOW_PLAIN_HTTP/);
});

t.test('the idle limit counts only time spent waiting on the server: a reader that pauses longer still gets every byte, a server that stalls fails', async (t) => {
  const big = Buffer.alloc(8 << 20, 'y');
  const served = await listen((req, res) => {
    res.writeHead(200, { etag: '"big"', 'content-length': big.length });
    if (req.method === 'HEAD') return void res.end();
    if (req.url === '/stall/a.csv') return void res.write(big.subarray(0, 1000)); // and nothing more
    res.end(big);
  });
  t.teardown(() => new Promise<void>((resolve) => {
    served.server.closeAllConnections();
    served.server.close(() => resolve());
  }));
  const settings = httpsSettings({ HTTPS_ALLOWED_HOSTS: served.host, HTTPS_ALLOW_PLAIN_HTTP: 'true' })!;
  const source = new HttpsSource({ parser: httpScheme, settings, timeoutMs: 300 });
  const ref = (path: string): ObjectRef => httpScheme.parse(`http://${served.host}${path}`, '/source/url');

  const body = await source.open(await source.head(ref('/big/a.csv')));
  let bytes = 0;
  let paused = false;
  for await (const chunk of body) {
    bytes += (chunk as Buffer).length;
    if (!paused) {
      // The loader's COPY is slow for four times the idle limit; the socket sits idle meanwhile.
      paused = true;
      await new Promise((r) => setTimeout(r, 1200));
    }
  }
  t.equal(bytes, big.length, 'every byte after a 1.2 s pause under a 300 ms idle limit');

  const stalled = await source.open(await source.head(ref('/stall/a.csv')));
  const started = Date.now();
  await t.rejects(text(stalled), { code: 'SOURCE_UNAVAILABLE', message: /reading .*stall\/a\.csv failed/ });
  t.ok(Date.now() - started < 5000, `a stalled server failed the read after ${Date.now() - started} ms`);
});

// One outbound policy for both callers: the same request-forgery cases run against an https:// source
// load and a completion callback, and each must end the same way (which servers got a request, whether
// the call went through); a call that reached no server must fail with the caller's own refusal code. Names resolve through a resolver
// the test hands in, so "a name that resolves to loopback" needs no DNS.
import t from 'tap';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { loadConfig } from '../src/config.js';
import { IngestError } from '../src/errors.js';
import { parseAllowList } from '../src/net/outbound/policy.js';
import { deliver } from '../src/notify.js';
import { HttpsSource } from '../src/sources/https/source.js';
import { httpScheme } from '../src/sources/https/url.js';

const body = 'id\n1\n';

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

const names: Record<string, string[]> = {
  'metadata.test': ['169.254.169.254'],
  'intranet.test': ['10.1.2.3'],
  'office.test': ['192.168.1.1'],
  'mapped.test': ['::ffff:7f00:1'],
  'six.test': ['::1'],
  'rebind.test': ['93.184.216.34', '127.0.0.1'],
  'local.test': ['127.0.0.1'],
};
const resolve = async (host: string): Promise<string[]> => {
  const addresses = names[host];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return addresses;
};

interface Verdict {
  /** The call went through (the source read the object, the callback got a 2xx). */
  through: boolean;
  /** Which test server got a request. */
  main: boolean;
  other: boolean;
}

t.test('the SSRF cases end the same way for an https source load and a completion callback', async (t) => {
  const other = await listen((_req, res) => void res.writeHead(200, { etag: '"o"', 'content-length': body.length }).end(body));
  const main = await listen((req, res) => {
    if (req.url === '/to-other') return void res.writeHead(302, { location: `http://127.0.0.1:${other.port}/a.csv` }).end();
    res.writeHead(200, { etag: '"m"', 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
  });
  t.teardown(() => Promise.all([main, other].map(({ server }) => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }))));
  const P = main.port;

  // [what, URL, allow-list (as either variable would hold it), the verdict both callers must reach;
  // left out, a field is false]. Redirects: a source refuses the hop, a callback follows none.
  const cases: Array<[string, string, string, Partial<Verdict>]> = [
    ['loopback named with its port', `http://127.0.0.1:${P}/a.csv`, `127.0.0.1:${P}`, { through: true, main: true }],
    ['loopback named without its port', `http://127.0.0.1:${P}/a.csv`, '127.0.0.1', {}],
    ['loopback named with another port', `http://127.0.0.1:${P}/a.csv`, `127.0.0.1:${P + 1}`, {}],
    ['cloud metadata by address', 'http://169.254.169.254/latest/meta-data/iam', '', {}],
    ['a listed name that resolves to cloud metadata', 'http://metadata.test/latest/meta-data/iam', 'metadata.test', {}],
    ['a listed name that resolves to 10/8', 'http://intranet.test/a.csv', 'intranet.test', {}],
    ['a listed name that resolves to 192.168/16', 'http://office.test/a.csv', 'office.test', {}],
    ['172.16/12 by address', 'http://172.16.0.1/a.csv', '', {}],
    ['IPv6 loopback', `http://[::1]:${P}/a.csv`, '', {}],
    ['IPv4-mapped IPv6 loopback', `http://[::ffff:127.0.0.1]:${P}/a.csv`, '', {}],
    ['a listed name that resolves to mapped loopback', `http://mapped.test:${P}/a.csv`, `mapped.test:${P}`, {}],
    ['a listed name that resolves to IPv6 loopback', `http://six.test:${P}/a.csv`, `six.test:${P}`, {}],
    ['a listed name with one loopback address among public ones', `http://rebind.test:${P}/a.csv`, `rebind.test:${P}`, {}],
    ['a listed name that resolves to loopback', `http://local.test:${P}/a.csv`, `local.test:${P}, local.test`, {}],
    ['a name whose loopback address is listed with the port', `http://local.test:${P}/a.csv`, `local.test:${P}, 127.0.0.1:${P}`, { through: true, main: true }],
    ['a redirect to a host not listed', `http://127.0.0.1:${P}/to-other`, `127.0.0.1:${P}`, { main: true }],
  ];

  const viaSource = async (url: string, allowedHosts: string[]): Promise<unknown> => {
    const source = new HttpsSource({ parser: httpScheme, settings: { allowedHosts, allowPlainHttp: true }, timeoutMs: 5000, resolve });
    try {
      return await text(await source.open(await source.head(httpScheme.parse(url, '/source/url'))));
    } finally {
      await source.close();
    }
  };
  const viaCallback = (url: string, allowedHosts: string[]): Promise<unknown> => deliver(url, '{}', { 'content-type': 'application/json' }, { allowedHosts, resolve });
  const callers: Array<[string, (url: string, allowedHosts: string[]) => Promise<unknown>, string]> = [
    ['https source', viaSource, 'SOURCE_FORBIDDEN'],
    ['callback', viaCallback, 'NOTIFY_URL_FORBIDDEN'],
  ];

  for (const [what, url, list, expected] of cases) {
    const verdicts: Verdict[] = [];
    for (const [caller, call, forbidden] of callers) {
      main.hits.length = 0;
      other.hits.length = 0;
      const outcome = await call(url, parseAllowList('TEST_ALLOWED_HOSTS', list)).then(() => undefined, (err: unknown) => err);
      const verdict: Verdict = { through: outcome === undefined, main: main.hits.length > 0, other: other.hits.length > 0 };
      const said = outcome instanceof Error ? outcome.message : 'went through';
      t.same(verdict, { through: false, main: false, other: false, ...expected }, `${what}: ${caller} (${said})`);
      if (!verdict.through && !verdict.main && !verdict.other) {
        t.equal((outcome as IngestError).code, forbidden, `${what}: ${caller} refused with ${forbidden}`);
      }
      verdicts.push(verdict);
    }
    t.same(verdicts[1], verdicts[0], `${what}: both callers agree`);
  }
});

t.test('a refusal names the address and the entry that would let it through, in the caller\'s variable', async (t) => {
  const url = 'http://local.test:8080/a.csv';
  const source = new HttpsSource({ parser: httpScheme, settings: { allowedHosts: ['local.test:8080'], allowPlainHttp: true }, resolve });
  t.teardown(() => source.close());
  await t.rejects(source.head(httpScheme.parse(url, '/source/url')), {
    code: 'SOURCE_FORBIDDEN',
    message: /host local\.test:8080 resolves to 127\.0\.0\.1, which is a loopback.*add 127\.0\.0\.1:8080 to HTTPS_ALLOWED_HOSTS/,
  });
  await t.rejects(deliver(url, '{}', {}, { allowedHosts: ['local.test:8080'], resolve }), {
    code: 'NOTIFY_URL_FORBIDDEN',
    message: /host local\.test:8080 resolves to 127\.0\.0\.1, which is a loopback.*add 127\.0\.0\.1:8080 to NOTIFY_ALLOWED_HOSTS/,
  });
});

t.test('allow-list entries: host or host:port as a URL spells them; a bare IPv6 address is bracketed', async (t) => {
  t.same(parseAllowList('NOTIFY_ALLOWED_HOSTS', ' Hooks.Example.org, 127.0.0.1:8080, ::1, [fd00::1]:443, example.org:80 ,'), [
    'hooks.example.org', '127.0.0.1:8080', '[::1]', '[fd00::1]', 'example.org',
  ]);
  t.throws(() => parseAllowList('NOTIFY_ALLOWED_HOSTS', 'hooks.example.org/path'), /NOTIFY_ALLOWED_HOSTS entry "hooks.example.org\/path" is not a host or host:port/);
  t.throws(() => parseAllowList('NOTIFY_ALLOWED_HOSTS', 'user@hooks.example.org'), /NOTIFY_ALLOWED_HOSTS entry/);
});

t.test('NOTIFY_ALLOWED_HOSTS is read with the same entries at start, and a bad entry stops the start naming it', async (t) => {
  t.same(loadConfig({ NOTIFY_ALLOWED_HOSTS: '127.0.0.1:8080, ::1, Hooks.Internal' }).notifyAllowedHosts, ['127.0.0.1:8080', '[::1]', 'hooks.internal']);
  t.throws(() => loadConfig({ NOTIFY_ALLOWED_HOSTS: 'hooks internal' }), { name: 'ConfigError', message: /NOTIFY_ALLOWED_HOSTS entry "hooks internal" is not a host or host:port/ });
});

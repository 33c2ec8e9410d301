// Completion callbacks: no SSRF through notify.url (any spelling of a private address, credentials,
// redirects, a host that changes between submit and delivery), a timestamp in the signed body, and a
// queue of their own so callbacks that hang never hold up loads.
import t from 'tap';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { isSpecialAddress } from '../src/net/specialAddresses.js';
import { checkNotifyUrl } from '../src/notifyTarget.js';
import { createNotifyQueue } from '../src/queue/queue.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/service.js';
import { IngestError } from '../src/errors.js';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';

async function listen(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}
const closeServer = (server: Server) => new Promise<void>((r) => {
  server.closeAllConnections();
  server.close(() => r());
});
async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** postJob, again while a busy shared machine makes the API shed load (503 OVERLOADED). */
async function submit(url: string, spec: unknown): Promise<{ status: number; body: any }> {
  for (let i = 0; ; i++) {
    const res = await postJob(url, spec);
    if (res.status !== 503 || res.body?.error?.code !== 'OVERLOADED' || i >= 20) return res;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const BAD_SPELLINGS = [
  'http://127.0.0.1/hook',
  'http://127.0.0.1:3000/jobs/x/cancel',
  'http://[::1]/hook',
  'http://0x7f000001/hook',
  'http://2130706433/hook',
  'http://0177.0.0.1/hook',
  'http://127.1/hook',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::ffff:127.0.0.1]/hook',
  'http://[::ffff:a9fe:a9fe]/hook',
  'http://0.0.0.0/hook',
  'http://[::]/hook',
  'http://10.1.2.3/hook',
  'http://172.16.0.1/hook',
  'http://192.168.1.1/hook',
  'http://100.64.0.1/hook',
  'http://[fd00::1]/hook',
  'http://[fe80::1]/hook',
  'http://224.0.0.1/hook',
  'http://localhost/hook',
  'https://LOCALHOST/hook',
];

t.test('special addresses are recognised in both families, public ones are not', async (t) => {
  for (const a of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '0.0.0.0', '255.255.255.255', '::1', '::', '::ffff:127.0.0.1', '::ffff:8.8.8.8', 'fe80::1', 'fc00::1', '64:ff9b::7f00:1', '2002:7f00:1::1']) {
    t.ok(isSpecialAddress(a), `${a} is special`);
  }
  for (const a of ['8.8.8.8', '93.184.216.34', '172.32.0.1', '2606:4700:4700::1111']) t.notOk(isSpecialAddress(a), `${a} is public`);
});

t.test('checkNotifyUrl refuses every spelling of a private address, a host resolving to one, and credentials', async (t) => {
  for (const url of BAD_SPELLINGS) {
    const err = await checkNotifyUrl(url, []).then(() => undefined, (e) => e);
    t.ok(err instanceof IngestError && err.code === 'NOTIFY_URL_FORBIDDEN', `${url} refused`);
  }
  const resolve = async (host: string) => (host === 'rebind.example' ? ['93.184.216.34', '127.0.0.1'] : ['93.184.216.34']);
  const rebind = await checkNotifyUrl('http://rebind.example/x', [], { resolve }).then(() => undefined, (e) => e);
  t.equal(rebind?.code, 'NOTIFY_URL_FORBIDDEN', 'one private address among the answers is enough to refuse');
  t.match(rebind?.message, /resolves to 127\.0\.0\.1/);
  const creds = await checkNotifyUrl('https://user:hunter2-secret@hooks.example/x', [], { resolve }).then(() => undefined, (e) => e);
  t.equal(creds?.code, 'NOTIFY_URL_FORBIDDEN');
  t.notMatch(creds?.message, /hunter2/, 'the password is not repeated');
  t.equal((await checkNotifyUrl('https://hooks.example/x?token=1', [], { resolve })).address, '93.184.216.34', 'a public host passes');
  t.equal((await checkNotifyUrl('http://93.184.216.34/x', [])).address, '93.184.216.34');
  t.equal((await checkNotifyUrl('http://127.0.0.1:9/x', ['127.0.0.1:9'])).address, '127.0.0.1', 'NOTIFY_ALLOWED_HOSTS names it with its port');
  t.equal((await checkNotifyUrl('http://[::1]:9/x', ['[::1]:9'])).address, '::1');
  t.equal((await checkNotifyUrl('http://localhost:9/x', ['127.0.0.1:9', '[::1]:9'])).host, 'localhost', 'a name passes when its addresses are listed');
  // As HTTPS_ALLOWED_HOSTS: an address is let through with the URL's port only, and a name lets none of its addresses through.
  const otherPort = await checkNotifyUrl('http://127.0.0.1:9/x', ['127.0.0.1', '127.0.0.1:10']).then(() => undefined, (e) => e);
  t.equal(otherPort?.code, 'NOTIFY_URL_FORBIDDEN', 'the address listed with another port is refused');
  t.match(otherPort?.message, /add 127\.0\.0\.1:9 to NOTIFY_ALLOWED_HOSTS/);
  const byName = await checkNotifyUrl('http://localhost:9/x', ['localhost', 'localhost:9']).then(() => undefined, (e) => e);
  t.equal(byName?.code, 'NOTIFY_URL_FORBIDDEN', 'listing the name does not let its loopback addresses through');
});

t.test('POST /jobs refuses a notify.url to a private address with 400 and stores nothing; credentials never reach the log', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const svc = await startService({ role: 'api', config: h.config, log: createLogger('debug', sink) });
  t.teardown(() => svc.stop());
  for (const url of [...BAD_SPELLINGS, 'https://alice:hunter2-secret@hooks.example/x', 'ftp://hooks.example/x']) {
    const res = await submit(svc.url!, { source: { url: 's3://landing/a.csv' }, target: { table: `${h.schema}.x` }, notify: { url } });
    t.equal(res.status, 400, `${url}: 400`);
    t.equal(res.body.error.code, url.startsWith('ftp') ? 'INVALID_SPEC' : 'NOTIFY_URL_FORBIDDEN', `${url}: code`);
    t.equal(res.body.error.details.field, '/notify/url');
  }
  const { rows } = await h.db.query('SELECT count(*)::int AS n FROM ingest.jobs WHERE queue = $1', [h.config.queueName]);
  t.equal(rows[0].n, 0, 'no job stored');
  t.notOk(lines.join('').includes('hunter2'), 'the password is in no log line');
  t.ok(lines.length > 0, 'the log was captured');
});

t.test('NOTIFY_SECRET unset: the worker warns at start', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const svc = await startService({ role: 'worker', config: h.config, log: createLogger('warn', sink) });
  await svc.stop();
  t.ok(lines.some((l) => /NOTIFY_SECRET is not set/.test(l)), 'a warning names NOTIFY_SECRET');
});

t.test('a redirect from the callback receiver is not followed', async (t) => {
  const elsewhere: string[] = [];
  const target = await listen((req, res) => { elsewhere.push(req.url ?? ''); res.end(); });
  t.teardown(() => closeServer(target.server));
  let redirects = 0;
  const hook = await listen((req, res) => {
    req.resume();
    redirects += 1;
    res.writeHead(307, { location: `${target.url}/stolen` }).end();
  });
  t.teardown(() => closeServer(hook.server));
  // Both receivers are allowed: the redirect is refused because callbacks follow none.
  const h = await createHarness({ notifyAllowedHosts: [new URL(hook.url).host, new URL(target.url).host] });
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int)`);
  const url = await h.put('n.csv', '1\n');
  const svc = await h.start();
  const job = await waitForJob(svc.url!, (await submit(svc.url!, { source: { url }, target: { table: `${h.schema}.n` }, notify: { url: `${hook.url}/hook` } })).body.id);
  t.equal(job.status, 'succeeded');
  await until(() => redirects >= 2, 'the callback to be retried after the redirect');
  t.same(elsewhere, [], 'the redirect target got nothing');
});

t.test('delivery checks the URL again: a host no longer allowed gets nothing, and it is not retried', async (t) => {
  const received: string[] = [];
  const hook = await listen((req, res) => { received.push(req.url ?? ''); res.end(); });
  t.teardown(() => closeServer(hook.server));
  const h = await createHarness({ notifyAllowedHosts: [new URL(hook.url).host] });
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int)`);
  const url = await h.put('n.csv', '1\n2\n');
  const api = await h.start('api');
  // The worker's view differs from the API's, as after a DNS change or a narrower allow-list.
  await h.start('worker', { notifyAllowedHosts: [] });
  const job = await waitForJob(api.url!, (await submit(api.url!, { source: { url }, target: { table: `${h.schema}.n` }, notify: { url: `${hook.url}/hook` } })).body.id);
  t.equal(job.status, 'succeeded');
  const queue = createNotifyQueue(h.config);
  t.teardown(() => queue.close());
  let state = '';
  await until(async () => (state = (await (await queue.getJob(`notify-${job.id}`))?.getState()) ?? '') === 'failed', 'the callback to fail');
  const failed = (await queue.getJob(`notify-${job.id}`))!;
  t.equal(state, 'failed');
  t.equal(failed.attemptsMade, 1, 'refused once, not retried');
  t.match(failed.failedReason, /NOTIFY_URL_FORBIDDEN/);
  t.same(received, [], 'the receiver got no request');
});

t.test('callbacks that hang do not hold up loads: they have their own queue and concurrency', async (t) => {
  const open = new Set<IncomingMessage>();
  let seen = 0;
  const hang = await listen((req) => {
    // Never answers.
    seen += 1;
    open.add(req);
    req.once('close', () => open.delete(req));
  });
  t.teardown(() => closeServer(hang.server));
  const h = await createHarness({ notifyAllowedHosts: [new URL(hang.url).host] });
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.n (a int)`);
  const svc = await h.start('all', { workerConcurrency: 1, notifyConcurrency: 4 });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const url = await h.put(`n${i}.csv`, `${i}\n`);
    ids.push((await submit(svc.url!, { source: { url }, target: { table: `${h.schema}.n` }, notify: { url: `${hang.url}/hook/${i}` } })).body.id);
  }
  for (const id of ids) t.equal((await waitForJob(svc.url!, id)).status, 'succeeded');
  await until(() => open.size === 4, 'four callbacks hanging at once');
  const firstSeen = seen;
  const url = await h.put('after.csv', '100\n200\n');
  const after = await waitForJob(svc.url!, (await submit(svc.url!, { source: { url }, target: { table: `${h.schema}.n` } })).body.id);
  const stillOpen = open.size;
  t.equal(after.status, 'succeeded', 'the load after them ran while WORKER_CONCURRENCY is 1');
  t.ok(stillOpen >= 1 || seen > firstSeen, `callbacks were still hanging (${stillOpen} open) when the load finished`);
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, sum(a)::int AS s FROM ${h.schema}.n`);
  t.same(rows[0], { n: 6, s: 306 });
});

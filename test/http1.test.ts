// The hand-written HTTP/1.1 GET (src/net/http1.ts) against real servers on loopback: node's own http
// server for the ordinary answers, raw sockets for the ones a server sends when something goes wrong
// (a head split byte by byte, a body cut short, a stall). A body is whole and exact, or it fails.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ChunkedBody } from '../src/net/chunkedBody.js';
import { getOnce, type GetRequest } from '../src/net/http1.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function listen(t: Test, server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

/** A server that answers each connection with `answer(socket)` once the request's head has come. */
async function rawServer(t: Test, answer: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (b) => {
      if (head.includes('\r\n\r\n')) return;
      head += b.toString('latin1');
      if (head.includes('\r\n\r\n')) answer(socket);
    });
  });
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  return listen(t, server);
}

function get(port: number, more: Partial<GetRequest> = {}): ReturnType<typeof getOnce> {
  return getOnce({ protocol: 'http:', hostname: '127.0.0.1', port, target: '/x', headers: {}, idleTimeoutMs: 10_000, ...more });
}

async function read(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

t.test('a Content-Length body of many reads arrives whole, with the request as sent', async (t) => {
  const data = randomBytes(5 * 1024 * 1024 + 17);
  let seen: http.IncomingMessage | undefined;
  const port = await listen(t, http.createServer((req, res) => {
    seen = req;
    res.writeHead(200, { 'content-length': data.length, 'x-amz-meta-a': 'one', 'Content-Type': 'text/csv' });
    res.end(data);
  }));
  const res = await get(port, { target: '/bucket/key%20a.csv?list-type=2&prefix=a%2Fb', headers: { 'X-Amz-Date': '20261203T000000Z' } });
  t.equal(res.status, 200);
  t.equal(res.headers['content-type'], 'text/csv', 'field names lower-cased');
  t.equal(res.headers['x-amz-meta-a'], 'one');
  t.equal(sha(await read(res.body)), sha(data), 'every byte, in order');
  t.equal(seen!.url, '/bucket/key%20a.csv?list-type=2&prefix=a%2Fb', 'the target as given');
  t.equal(seen!.headers.host, `127.0.0.1:${port}`, 'host added');
  t.equal(seen!.headers.connection, 'close');
  t.equal(seen!.headers['x-amz-date'], '20261203T000000Z');
});

t.test('a chunked body, a body read to the close and an empty one', async (t) => {
  const pieces = [randomBytes(1), randomBytes(70_000), randomBytes(3), randomBytes(300_000)];
  const port = await listen(t, http.createServer(async (req, res) => {
    if (req.url === '/empty') return res.writeHead(204).end();
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (const p of pieces) {
      res.write(p);
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end();
  }));
  const chunked = await get(port);
  t.equal(chunked.headers['transfer-encoding'], 'chunked');
  t.equal(sha(await read(chunked.body)), sha(Buffer.concat(pieces)), 'the data, without the chunk framing');
  const empty = await get(port, { target: '/empty' });
  t.equal(empty.status, 204);
  t.equal((await read(empty.body)).length, 0);

  const data = randomBytes(200_000);
  const closing = await rawServer(t, (socket) => socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), data])));
  t.equal(sha(await read((await get(closing)).body)), sha(data), 'no length, no chunks: the body is what comes before the close');
});

t.test('a head sent a byte at a time after a 100 Continue, and its body in the same reads', async (t) => {
  const answer = Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nnope!trailing junk');
  const port = await rawServer(t, async (socket) => {
    for (const byte of answer) {
      socket.write(Buffer.of(byte));
      await new Promise((r) => setImmediate(r));
    }
  });
  const res = await get(port);
  t.equal(res.status, 404, 'the final answer, not the interim one');
  t.equal(res.reason, 'Not Found');
  t.equal(res.headers['x-a'], '1, 2', 'a repeated field joined');
  t.equal((await read(res.body)).toString(), 'nope!', 'exactly Content-Length bytes');
});

t.test('a body cut short fails with the bytes it got; it never ends as if whole', async (t) => {
  const cutLength = await rawServer(t, (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'a'.repeat(400)));
  const res = await get(cutLength);
  await t.rejects(read(res.body), { code: 'ECONNRESET', message: /closed the connection after 400 of 1000 body bytes/ });

  const cutChunked = await rawServer(t, (socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc'));
  await t.rejects(read((await get(cutChunked)).body), { code: 'ECONNRESET', message: /after 8 body bytes/ });

  const noAnswer = await rawServer(t, (socket) => socket.end('HTTP/1.1 200 O'));
  await t.rejects(get(noAnswer), { code: 'ECONNRESET', message: /closed the connection before answering/ });

  const notHttp = await rawServer(t, (socket) => socket.end('SSH-2.0-OpenSSH\r\n\r\n'));
  await t.rejects(get(notHttp), { code: 'EPROTO', message: /not an HTTP\/1\.x status line/ });

  const badChunk = await rawServer(t, (socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'));
  await t.rejects(read((await get(badChunk)).body), { code: 'EPROTO', message: /bad chunk size/ });

  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const nobody = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await t.rejects(get(nobody), { code: 'ECONNREFUSED' }, 'nothing listening');
});

t.test('the idle limit counts the network\'s silence, not a reader that stopped reading', async (t) => {
  const stall = await rawServer(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  const stalled = await get(stall, { idleTimeoutMs: 300 });
  const started = Date.now();
  await t.rejects(read(stalled.body), { code: 'ETIMEDOUT', name: 'TimeoutError' });
  t.ok(Date.now() - started >= 250, 'after the limit');
  const silent = await rawServer(t, () => {});
  await t.rejects(get(silent, { idleTimeoutMs: 300 }), { code: 'ETIMEDOUT' }, 'no head at all');

  const data = randomBytes(4 * 1024 * 1024);
  const port = await listen(t, http.createServer((_req, res) => res.writeHead(200, { 'content-length': data.length }).end(data)));
  const res = await get(port, { idleTimeoutMs: 300 });
  const chunks: Buffer[] = [];
  let paused = false;
  for await (const c of res.body) {
    chunks.push(c as Buffer);
    if (!paused) {
      paused = true;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  t.equal(sha(Buffer.concat(chunks)), sha(data), 'a reader that waited 1 s, over a 300 ms limit, still gets every byte');
});

t.test('an abort ends the request and its connection', async (t) => {
  let closed!: () => void;
  const gone = new Promise<void>((resolve) => (closed = resolve));
  const port = await rawServer(t, (socket) => {
    socket.on('close', () => closed());
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n' + 'a'.repeat(1000));
  });
  const ac = new AbortController();
  const res = await get(port, { signal: ac.signal });
  const reading = read(res.body);
  setTimeout(() => ac.abort(new Error('cancelled by the test')), 50);
  await t.rejects(reading, { name: 'AbortError' });
  await gone;
  t.pass('the server saw the connection close');
  await t.rejects(get(port, { signal: ac.signal }), { name: 'AbortError' }, 'an aborted signal sends nothing');
  await t.rejects(get(port, { target: '/a b' }), TypeError, 'a target with a space is refused before sending');
});

/** A self-signed certificate for localhost and 127.0.0.1, made by openssl; `skip` says why there is none. */
function testCertificate(): { key: Buffer; cert: Buffer; skip?: undefined } | { skip: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'http1-tls-'));
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  if (made.status !== 0) return { skip: 'openssl could not make a test certificate on this machine' };
  return { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) };
}
const tlsFiles = testCertificate();

t.test('over TLS, checked against the CA it is given', { skip: tlsFiles.skip ?? false }, async (t) => {
  if (tlsFiles.skip !== undefined) return;
  const { key, cert } = tlsFiles;
  const data = randomBytes(3 * 1024 * 1024 + 5);
  const server = https.createServer({ key, cert }, (_req, res) => res.writeHead(200, { 'content-length': data.length }).end(data));
  const port = await listen(t, server);
  const request = { protocol: 'https:', hostname: 'localhost', port, target: '/', headers: {}, idleTimeoutMs: 10_000 } as const;
  const res = await getOnce({ ...request, connect: { ca: cert, host: '127.0.0.1' } });
  t.equal(sha(await read(res.body)), sha(data), 'the bytes, decrypted');
  await t.rejects(getOnce({ ...request, connect: { host: '127.0.0.1' } }), /self-signed|self signed/, 'an unknown CA is refused');
});

t.test('chunked framing undone at every split of the input', async (t) => {
  const data = randomBytes(300);
  // Chunks of uneven sizes, one with an extension, then trailers, then bytes of the next message.
  const sizes = [1, 16, 255, 28];
  let wire = '';
  let at = 0;
  for (const [i, size] of sizes.entries()) {
    wire += `${size.toString(16)}${i === 1 ? ';name=value' : ''}\r\n${data.subarray(at, at + size).toString('latin1')}\r\n`;
    at += size;
  }
  wire += '0\r\nx-trailer: yes\r\n\r\n';
  const bytes = Buffer.concat([Buffer.from(wire, 'latin1'), Buffer.from('NEXT')]);
  const end = bytes.length - 4;
  for (let cut = 0; cut <= bytes.length; cut++) {
    for (const second of [cut, Math.min(bytes.length, cut + 1), Math.min(bytes.length, cut + 7)]) {
      const decoder = new ChunkedBody();
      const out: Buffer[] = [];
      let ended = -1;
      let offset = 0;
      for (const part of [bytes.subarray(0, cut), bytes.subarray(cut, second), bytes.subarray(second)]) {
        if (ended >= 0) break;
        const e = decoder.feed(part, (d) => out.push(Buffer.from(d)));
        if (e >= 0) ended = offset + e;
        offset += part.length;
      }
      if (ended !== end || !Buffer.concat(out).equals(data.subarray(0, at))) {
        t.fail(`split at ${cut} and ${second}: ended at ${ended} (want ${end}), ${Buffer.concat(out).length} data bytes`);
        return;
      }
    }
  }
  t.pass('every split gives the same data and the same end');
});

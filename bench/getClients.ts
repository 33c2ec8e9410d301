// `npm run bench:get [-- --rows N --rounds N]`: the CPU one large-body GET costs the client, the project's
// own HTTP/1.1 GET (src/net/http1.ts, now used only by the https:// source) against undici's request()
// (what S3 GETs go through), over plain HTTP and over TLS. A child
// process serves the benchmark's data file (http and https, a self-signed certificate made by openssl)
// on loopback; this process only reads, so process.cpuUsage() around a GET is the client's CPU. Clients
// take turns within each round; the median per client and protocol is printed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { getOnce } from '../src/net/http1.js';
import { ensureDataFile } from './data.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '5' } } });
const file = await ensureDataFile(Number(values.rows));
const rounds = Number(values.rounds);

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-get-'));
const key = path.join(dir, 'key.pem');
const cert = path.join(dir, 'cert.pem');
const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
if (made.status !== 0) throw new Error('openssl could not make a certificate');
const ca = readFileSync(cert);

// The server: the file read 1 MiB at a time, over http and https; it prints its two ports.
const serverCode = `
const fs = require('node:fs'), http = require('node:http'), https = require('node:https');
const serve = (req, res) => { res.writeHead(200, { 'content-length': fs.statSync(${JSON.stringify(file.path)}).size }); fs.createReadStream(${JSON.stringify(file.path)}, { highWaterMark: 1 << 20 }).pipe(res); };
const a = http.createServer(serve).listen(0, '127.0.0.1', () => {
  const b = https.createServer({ key: fs.readFileSync(${JSON.stringify(key)}), cert: fs.readFileSync(${JSON.stringify(cert)}) }, serve).listen(0, '127.0.0.1', () => console.log(a.address().port, b.address().port));
});`;
const server = spawn(process.execPath, ['-e', serverCode], { stdio: ['ignore', 'pipe', 'inherit'] });
const [httpPort, httpsPort] = await new Promise<number[]>((resolve) => server.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim().split(' ').map(Number))));

/** Reads a body to its end, returns its bytes. */
async function drain(body: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) bytes += chunk.length;
  return bytes;
}

const tlsAgent = new Agent({ connect: { ca, servername: 'localhost' } });
type Protocol = 'http' | 'https';
const clients: Record<string, (p: Protocol) => Promise<number>> = {
  http1: async (p) => {
    const res = await getOnce({ protocol: `${p}:`, hostname: '127.0.0.1', port: p === 'http' ? httpPort : httpsPort, target: '/', headers: {}, idleTimeoutMs: 60_000, connect: { ca, servername: 'localhost' } });
    return drain(res.body);
  },
  undici: async (p) => {
    const res = await request(`${p}://127.0.0.1:${p === 'http' ? httpPort : httpsPort}/`, p === 'https' ? { dispatcher: tlsAgent } : {});
    return drain(res.body);
  },
};

const cpu: Record<string, number[]> = {};
for (let round = 0; round < rounds; round++) {
  for (const protocol of ['http', 'https'] as const) {
    const names = Object.keys(clients);
    if (round % 2) names.reverse();
    for (const name of names) {
      const before = process.cpuUsage();
      const bytes = await clients[name]!(protocol);
      const used = process.cpuUsage(before);
      if (bytes !== file.bytes) throw new Error(`${name} over ${protocol} read ${bytes} bytes of ${file.bytes}`);
      (cpu[`${name} ${protocol}`] ??= []).push((used.user + used.system) / 1e6);
    }
  }
}
server.kill();
await tlsAgent.close();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`client CPU s per GET of ${(file.bytes / 1e6).toFixed(1)} MB (median of ${rounds}; every round's in brackets)`);
for (const [name, xs] of Object.entries(cpu)) console.log(`${name.padEnd(14)} ${median(xs).toFixed(3)}  [${xs.map((x) => x.toFixed(3)).join(', ')}]`);

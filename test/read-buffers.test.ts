// The read buffers reused across reads (src/net/slabs.ts): a slab is read over only once every view of
// it has come back from a reader that keeps none of it. Checked on the slabs alone, through the project's
// own GET against a real server, and through whole loads from S3 and from a mounted volume into
// PostgreSQL, whose rows must be exactly those PostgreSQL's own COPY makes of the same bytes.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import copyStreams from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { getOnce } from '../src/net/http1.js';
import { giveBack, lend, MIN_READ_BYTES, SLAB_BYTES, slabCounts, SlabReads, SPARE_SLABS } from '../src/net/slabs.js';
import { pricePaidCsv, ukPriceTableSql } from '../src/gen/pricePaid.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RunningService } from '../src/service.js';
import { readSourceSettings } from '../src/sources/settings.js';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';

const sha = (parts: Buffer[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/**
 * Reads of `size` into a SlabReads from the start of a slab until it moves to its next one, each lent
 * as http1 lends them; returns that slab's reads.
 */
function fillSlab(reads: SlabReads, size: number): Buffer[] {
  const views: Buffer[] = [];
  for (;;) {
    const into = reads.next();
    // A read at the start of a slab: the one before was left.
    if (views.length > 0 && into.byteOffset === 0) break;
    into.fill(views.length + 1, 0, size);
    const view = reads.filled(size);
    lend(view);
    views.push(view);
  }
  return views;
}

t.test('a slab is read over only after every view lent from it has come back, each once', async (t) => {
  const reads = new SlabReads();
  t.equal(reads.next().byteOffset, 0);
  const views = fillSlab(reads, 300_000);
  t.equal(views.length, Math.floor((SLAB_BYTES - MIN_READ_BYTES) / 300_000) + 1, 'reads go into one slab until less than MIN_READ_BYTES is left');
  const kept = views.map((v) => Buffer.from(v));
  // Everything but the last view comes back; the first comes back twice, which must count once.
  for (const v of views.slice(0, -1)) giveBack(v);
  giveBack(views[0]!);
  const other = new SlabReads();
  for (let i = 0; i < 2 * SPARE_SLABS; i++) {
    const into = other.next();
    t.not(into.buffer, views[0]!.buffer, 'a slab with a view still out is not read into');
    into.fill(0xee);
    other.filled(into.length);
  }
  t.same(views.map((v) => Buffer.from(v)), kept, 'the views still hold what was read into them');
  other.close();
  // The last view back: the slab is spare, and the next read goes into it.
  giveBack(views.at(-1)!);
  const again = new SlabReads();
  t.equal(again.next().buffer, views[0]!.buffer, 'once every view is back the slab is read into again');
  again.close();
  reads.close();
});

t.test('a view of a slab no longer read into cannot be lent, and buffers that are not slabs are ignored', async (t) => {
  const reads = new SlabReads();
  reads.next();
  const lent = reads.filled(400_000);
  lend(lent);
  reads.next();
  const notLent = reads.filled(400_000);
  // Less than MIN_READ_BYTES left: the next read retires the slab, which still has a view out.
  t.not(reads.next().buffer, lent.buffer);
  t.throws(() => lend(notLent), /a view of a retired read buffer was lent/);
  giveBack(lent);
  const plain = Buffer.alloc(10, 7);
  lend(plain);
  giveBack(plain);
  t.same(plain, Buffer.alloc(10, 7));
  reads.close();
});

async function serve(t: Test, data: Buffer): Promise<number> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': data.length });
    res.end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

const get = (port: number) => getOnce({ protocol: 'http:', hostname: '127.0.0.1', port, target: '/x', headers: {}, idleTimeoutMs: 10_000 });

t.test('GET bodies: a reader that gives its chunks back gets reused slabs, and one that keeps them keeps its bytes', async (t) => {
  const data = randomBytes(12 * SLAB_BYTES + 12_345);
  const port = await serve(t, data);
  const before = slabCounts();
  // The giving reader and the keeping one read at the same time, so freed slabs are there to be taken.
  const giving = (async () => {
    const seen: Buffer[] = [];
    for await (const chunk of (await get(port)).body) {
      seen.push(Buffer.from(chunk as Buffer));
      giveBack(chunk as Buffer);
    }
    return seen;
  })();
  const keeping = (async () => {
    const kept: Buffer[] = [];
    for await (const chunk of (await get(port)).body) {
      kept.push(chunk as Buffer);
      await new Promise((r) => setImmediate(r));
    }
    return kept;
  })();
  const [seen, kept] = await Promise.all([giving, keeping]);
  t.equal(sha(seen), sha([data]), 'the reader that gave chunks back read every byte');
  t.equal(sha(kept), sha([data]), 'the chunks kept (views, not copies) still hold the body after the other reader reused its slabs');
  const after = slabCounts();
  t.ok(after.reused - before.reused >= 6, `reads went into reused slabs (${after.reused - before.reused} reused, ${after.made - before.made} made)`);
});

/** Loads `csv` through the service from `url`, and the same bytes with PostgreSQL's own COPY; the tables must match, and the load must have reused slabs. */
async function loadBoth(h: Harness, svc: RunningService, url: string, csv: Buffer, t: Test): Promise<void> {
  await h.db.query(ukPriceTableSql(`${h.schema}.loaded`));
  await h.db.query(ukPriceTableSql(`${h.schema}.reference`));
  const client = await h.db.connect();
  try {
    await pipeline(Readable.from([csv]), client.query(copyStreams.from(`COPY ${h.schema}.reference FROM STDIN (FORMAT csv)`)));
  } finally {
    client.release();
  }
  const before = slabCounts();
  const job = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.loaded` } })).body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const after = slabCounts();
  t.ok(after.reused - before.reused >= 5, `the load read into reused slabs (${after.reused - before.reused} reused, ${after.made - before.made} made)`);
  const digest = async (table: string): Promise<{ n: number; md5: string }> =>
    (await h.db.query(`SELECT count(*)::int AS n, md5(string_agg(t::text, E'\\n' ORDER BY transaction_unique_identifier)) AS md5 FROM ${h.schema}.${table} t`)).rows[0];
  const reference = await digest('reference');
  t.equal(reference.n, 120_000);
  t.same(await digest('loaded'), reference, 'every row and every field as COPY of the same bytes has them');
}

// 120,000 rows, about 20 MB: many slabs over, above the size S3 bodies go through the project's GET.
const bigCsv = (): Buffer => pricePaidCsv(120_000, 11);

t.test('a load from S3 through reused read buffers: the rows are exactly those COPY makes of the same bytes', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const csv = bigCsv();
  const url = await h.put('big.csv', csv);
  await loadBoth(h, await h.start('all'), url, csv, t);
});

t.test('a load from a mounted volume through reused read buffers: the same', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const root = await mkdtemp(path.join(os.tmpdir(), 'read-buffers-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const csv = bigCsv();
  await writeFile(path.join(root, 'big.csv'), csv);
  const svc = await h.start('all', { sources: readSourceSettings({ LOCAL_SOURCE_ROOTS: root }) });
  await loadBoth(h, svc, `file://${root}/big.csv`, csv, t);
});

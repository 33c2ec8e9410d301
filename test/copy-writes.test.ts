// The fast path's writes into COPY (maxErrors 0, one COPY per file) with the connection's socket corked
// while one read's pieces are written: every byte and record still arrives in order, the writes reach
// the socket gathered, the socket is never left corked (not after a load, not after the server ends a
// COPY on bad data), and a load waiting on backpressure can still be aborted.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import { CsvFramer } from '../src/decode/csv/csvFramer.js';
import { CopyLoader } from '../src/sink/copyLoader.js';
import { clientSocket } from '../src/sink/copyWrites.js';
import { createHarness } from './helpers/harness.js';

/** node-postgres's socket, where pg-copy-streams writes its CopyData messages. */
const socketOf = (client: unknown): unknown => (client as { connection: { stream: unknown } }).connection.stream;

const framer = (): CsvFramer => new CsvFramer({ quote: '"', escape: '"', header: false, dropBom: true, trackRecords: false });

/** `n` records of two columns; quoted line breaks in some, so records and lines differ. */
function csv(n: number, bad?: number): { file: Buffer; sum: number } {
  const lines: string[] = [];
  let sum = 0;
  for (let i = 1; i <= n; i++) {
    const name = i % 97 === 0 ? `"two\nlines ${i}"` : `"name ${i} ${'x'.repeat(i % 300)}"`;
    lines.push(`${i === bad ? 'oops' : i},${name}\n`);
    sum += i;
  }
  return { file: Buffer.from(lines.join('')), sum };
}

/** The file in pieces of changing sizes, many of them cutting a record in two. */
function pieces(file: Buffer): Buffer[] {
  const sizes = [1, 7, 4096, 65_536, 333, 200_000, 17, 1 << 20];
  const out: Buffer[] = [];
  for (let at = 0, k = 0; at < file.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(file.subarray(at, at + n));
    at += n;
  }
  return out;
}

t.test('a single COPY gets every byte and record in order, its CopyData writes gathered on the socket', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.fast`;
  await h.db.query(`CREATE TABLE ${table} (id int, name text)`);
  const rows = 40_000;
  const { file, sum } = csv(rows);

  const client = await h.db.connect();
  t.teardown(() => client.release());
  const socket = socketOf(client) as { _write: Function; _writev: Function; writableCorked: number };
  t.equal(clientSocket(client), socket, 'the loader corks the socket the client writes to');
  // Count what reaches the socket's own write functions: one call each is one system call at most.
  let single = 0;
  let gathered = 0;
  const write = socket._write;
  const writev = socket._writev;
  socket._write = function (this: unknown, ...args: unknown[]) {
    single++;
    return write.apply(this, args);
  };
  socket._writev = function (this: unknown, ...args: unknown[]) {
    gathered++;
    return writev.apply(this, args);
  };
  t.teardown(() => {
    socket._write = write;
    socket._writev = writev;
  });

  await client.query('BEGIN');
  const f = framer();
  // Every piece the framer gives out is one CopyData message: two writes (its header, its bytes).
  let messages = 0;
  const push = f.push.bind(f);
  const end = f.end.bind(f);
  f.push = (chunk, out) => {
    const before = out.length;
    push(chunk, out);
    messages += out.length - before;
  };
  f.end = (out) => {
    const before = out.length;
    end(out);
    messages += out.length - before;
  };
  const loader = new CopyLoader({ client, decoder: f, mode: 'single', textEncoding: 'utf8', statement: () => `COPY ${table} FROM STDIN WITH (FORMAT csv)`, onReject: async () => {} });
  const input = pieces(file);
  await pipeline(Readable.from(input), loader);
  await client.query('COMMIT');
  t.equal(socket.writableCorked, 0, 'the socket is left uncorked');

  t.equal(loader.rowsLoaded, rows, 'COPY counted every record');
  t.equal(f.stats.records, rows);
  const { rows: got } = await h.db.query(
    `SELECT count(*)::int AS n, sum(id)::bigint AS s, md5(string_agg(id || ',' || name, '|' ORDER BY id)) AS digest FROM ${table}`,
  );
  const text = file.toString('utf8').trimEnd().split(/\n(?=\d)/).map((l) => l.replace(/^(\d+),"(.*)"$/s, '$1,$2')).join('|');
  const { createHash } = await import('node:crypto');
  t.same(got[0], { n: rows, s: sum, digest: createHash('md5').update(text).digest('hex') }, 'the same bytes, in the same rows');
  // Gathered, at most one socket write per message reaches the socket instead of two.
  t.ok(gathered > 0, `writes were gathered (${gathered} writev, ${single} single, for ${messages} messages)`);
  t.ok(gathered + single <= messages, `no more socket writes (${gathered + single}) than messages (${messages}), half the ${messages * 2} of unpaired writes`);
});

t.test('a bad record ends the COPY with its line, and the socket is not left corked', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.fast_bad`;
  await h.db.query(`CREATE TABLE ${table} (id int, name text)`);
  const { file } = csv(30_000, 25_000);
  const client = await h.db.connect();
  let broken = false;
  t.teardown(() => client.release(broken));
  await client.query('BEGIN');
  const f = framer();
  const loader = new CopyLoader({ client, decoder: f, mode: 'single', textEncoding: 'utf8', statement: () => `COPY ${table} FROM STDIN WITH (FORMAT csv)`, onReject: async () => {} });
  const err = await pipeline(Readable.from(pieces(file)), loader).then(
    () => undefined,
    (e: unknown) => e as { code?: string; reject?: { line: number | null } },
  );
  broken = true;
  t.equal(err?.code, '22P02', 'the server refused the record');
  // Records 97, 194, ... span two lines: the bad record's line counts them.
  t.equal(err?.reject?.line, 25_000 + Math.floor(25_000 / 97), 'on its line in the file');
  t.equal((socketOf(client) as { writableCorked: number }).writableCorked, 0, 'the socket is left uncorked');
  await client.query('ROLLBACK').catch(() => {});
});

t.test('a load waiting on a full socket is aborted with CopyFail and rolls back', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.fast_abort`;
  await h.db.query(`CREATE TABLE ${table} (id int, name text)`);
  const { file } = csv(60_000);
  const client = await h.db.connect();
  t.teardown(() => client.release(true));
  await client.query('BEGIN');
  const loader = new CopyLoader({ client, decoder: framer(), mode: 'single', textEncoding: 'utf8', statement: () => `COPY ${table} FROM STDIN WITH (FORMAT csv)`, onReject: async () => {} });
  const controller = new AbortController();
  let sent = 0;
  const source = Readable.from(
    (function* () {
      for (const p of pieces(file)) {
        sent += p.length;
        // Abort once a good part of the file is on its way: writes are then waiting for 'drain'.
        if (sent > file.length / 2) controller.abort(new Error('stop'));
        yield p;
      }
    })(),
  );
  await t.rejects(pipeline(source, loader, { signal: controller.signal }));
  await client.query('ROLLBACK').catch(() => {});
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(rows[0].n, 0, 'nothing was loaded');
  t.equal((socketOf(client) as { writableCorked: number }).writableCorked, 0, 'the socket is left uncorked');
});

// The fast path's writes into COPY (maxErrors 0, one COPY per file): the framed bytes gathered into
// writes of GATHER_BYTES into pg-copy-streams (sink/gatheredWrites.ts). Every byte and record arrives in
// order, in a few large writes; a bad record still ends the COPY with its line; a load waiting on a full
// socket can still be aborted.
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import { CsvFramer } from '../src/decode/csv/csvFramer.js';
import { createCopyLoader } from '../src/sink/copyLoader.js';
import { GATHER_BYTES } from '../src/sink/gatheredWrites.js';
import { createHarness } from './helpers/harness.js';

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

/** Count, sum and a digest of the table's rows in id order, and what they must be for `file`. */
async function sameRows(db: { query: (sql: string) => Promise<{ rows: Array<Record<string, unknown>> }> }, table: string, file: Buffer, rows: number, sum: number): Promise<[unknown, unknown]> {
  const { rows: got } = await db.query(`SELECT count(*)::int AS n, sum(id)::bigint AS s, md5(string_agg(id || ',' || name, '|' ORDER BY id)) AS digest FROM ${table}`);
  const text = file.toString('utf8').trimEnd().split(/\n(?=\d)/).map((l) => l.replace(/^(\d+),"(.*)"$/s, '$1,$2')).join('|');
  return [got[0], { n: rows, s: String(sum), digest: createHash('md5').update(text).digest('hex') }];
}

t.test('a single COPY gets every byte and record in order, in writes of GATHER_BYTES', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.fast`;
  await h.db.query(`CREATE TABLE ${table} (id int, name text)`);
  const rows = 40_000;
  const { file, sum } = csv(rows);

  const client = await h.db.connect();
  t.teardown(() => client.release());
  // Count the writes into the COPY stream (pg-copy-streams sends each as one CopyData message).
  const writes: number[] = [];
  const query = client.query.bind(client) as (q: unknown) => unknown;
  (client as { query: unknown }).query = (q: unknown) => {
    const stream = query(q) as { write?: Function };
    if (q instanceof Writable && stream === q) {
      const write = stream.write!;
      stream.write = function (this: unknown, chunk: Buffer, ...rest: unknown[]) {
        writes.push(chunk.length);
        return write.call(this, chunk, ...rest);
      };
    }
    return stream;
  };
  t.teardown(() => {
    (client as { query: unknown }).query = query;
  });

  await client.query('BEGIN');
  const loader = createCopyLoader({ client, decoder: framer(), mode: 'single', textEncoding: 'utf8', statement: () => `COPY ${table} FROM STDIN WITH (FORMAT csv)`, onReject: async () => {} });
  await pipeline(Readable.from(pieces(file)), loader);
  await client.query('COMMIT');

  t.equal(loader.rowsLoaded, rows, 'COPY counted every record');
  const [got, want] = await sameRows(h.db, table, file, rows, sum);
  t.same(got, want, 'the same bytes, in the same rows');
  const full = Math.floor(file.length / GATHER_BYTES);
  t.equal(writes.length, full + 1, `${file.length} bytes went in ${full} full writes and one last`);
  t.ok(writes.slice(0, full).every((n) => n === GATHER_BYTES), 'every write but the last is a full buffer');
  t.equal(writes.reduce((a, b) => a + b, 0), file.length, 'the writes hold the file, byte for byte in count');
});

t.test('a bad record ends the COPY with its line', async (t) => {
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
  const loader = createCopyLoader({ client, decoder: f, mode: 'single', textEncoding: 'utf8', statement: () => `COPY ${table} FROM STDIN WITH (FORMAT csv)`, onReject: async () => {} });
  const err = await pipeline(Readable.from(pieces(file)), loader).then(
    () => undefined,
    (e: unknown) => e as { code?: string; reject?: { line: number | null } },
  );
  broken = true;
  t.equal(err?.code, '22P02', 'the server refused the record');
  // Records 97, 194, ... span two lines: the bad record's line counts them.
  t.equal(err?.reject?.line, 25_000 + Math.floor(25_000 / 97), 'on its line in the file');
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
  const loader = createCopyLoader({ client, decoder: framer(), mode: 'single', textEncoding: 'utf8', statement: () => `COPY ${table} FROM STDIN WITH (FORMAT csv)`, onReject: async () => {} });
  const controller = new AbortController();
  let sent = 0;
  const source = Readable.from(
    (function* () {
      for (const p of pieces(file)) {
        sent += p.length;
        // Abort once a good part of the file is on its way: writes are then waiting in the socket.
        if (sent > file.length / 2) controller.abort(new Error('stop'));
        yield p;
      }
    })(),
  );
  await t.rejects(pipeline(source, loader, { signal: controller.signal }));
  await client.query('ROLLBACK').catch(() => {});
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(rows[0].n, 0, 'nothing was loaded');
});

// The fast path's writes into COPY (maxErrors 0, one COPY per file): the framed bytes gathered into
// CopyData messages of FRAME_BYTES written straight onto the connection's socket (sink/copyFrames.ts).
// Every byte and record arrives in order, in a few large messages; a frame is written over only once the
// socket has written it, also when the server stops reading for a while; a bad record still ends the
// COPY with its line; a load waiting on a full socket can still be aborted.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import { CsvFramer } from '../src/decode/csv/csvFramer.js';
import { createCopyLoader } from '../src/sink/copyLoader.js';
import { clientSocket, CopyFrames, FRAME_BYTES, FRAMES_IN_FLIGHT, type FrameSocket } from '../src/sink/copyFrames.js';
import { createHarness } from './helpers/harness.js';

/** node-postgres's socket, where pg-copy-streams and the frames write. */
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

/** Count, sum and a digest of the table's rows in id order, and what they must be for `file`. */
async function sameRows(db: { query: (sql: string) => Promise<{ rows: Array<Record<string, unknown>> }> }, table: string, file: Buffer, rows: number, sum: number): Promise<[unknown, unknown]> {
  const { rows: got } = await db.query(`SELECT count(*)::int AS n, sum(id)::bigint AS s, md5(string_agg(id || ',' || name, '|' ORDER BY id)) AS digest FROM ${table}`);
  const text = file.toString('utf8').trimEnd().split(/\n(?=\d)/).map((l) => l.replace(/^(\d+),"(.*)"$/s, '$1,$2')).join('|');
  return [got[0], { n: rows, s: String(sum), digest: createHash('md5').update(text).digest('hex') }];
}

t.test('a single COPY gets every byte and record in order, in CopyData messages of FRAME_BYTES', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.fast`;
  await h.db.query(`CREATE TABLE ${table} (id int, name text)`);
  const rows = 40_000;
  const { file, sum } = csv(rows);

  const client = await h.db.connect();
  t.teardown(() => client.release());
  const socket = socketOf(client) as { write: Function };
  t.equal(clientSocket(client), socket, 'the frames go to the socket the client writes to');
  // Count the CopyData messages that reach the socket ('d', then a length), and their bytes.
  const messages: number[] = [];
  const write = socket.write;
  socket.write = function (this: unknown, chunk: Buffer, ...rest: unknown[]) {
    if (Buffer.isBuffer(chunk) && chunk[0] === 0x64 && chunk.length >= 5 && chunk.readUInt32BE(1) === chunk.length - 1) messages.push(chunk.length - 5);
    return write.call(this, chunk, ...rest);
  };
  t.teardown(() => {
    socket.write = write;
  });

  await client.query('BEGIN');
  const loader = createCopyLoader({ client, decoder: framer(), mode: 'single', textEncoding: 'utf8', statement: () => `COPY ${table} FROM STDIN WITH (FORMAT csv)`, onReject: async () => {} });
  await pipeline(Readable.from(pieces(file)), loader);
  await client.query('COMMIT');

  t.equal(loader.rowsLoaded, rows, 'COPY counted every record');
  const [got, want] = await sameRows(h.db, table, file, rows, sum);
  t.same(got, want, 'the same bytes, in the same rows');
  // pg-copy-streams sends one empty message first: the frames' wait for copy-in mode.
  t.equal(messages.filter((n) => n === 0).length, 1, 'one empty message, the wait for copy-in mode');
  messages.splice(messages.indexOf(0), 1);
  const full = Math.floor(file.length / FRAME_BYTES);
  t.equal(messages.length, full + 1, `${file.length} bytes went in ${full} full messages and one last (${messages.length} written by the frames)`);
  t.ok(messages.slice(0, full).every((n) => n === FRAME_BYTES), 'every message but the last is a full frame');
  t.equal(messages.reduce((a, b) => a + b, 0), file.length, 'the messages hold the file, byte for byte in count');
});

t.test('a frame is written over only after the socket has written it, while the server stops reading', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.fast_stall`;
  await h.db.query(`CREATE TABLE ${table} (id int, name text)`);
  // The server stops reading for a second at the 1,000th row: the kernel's buffers fill and the frames
  // written meanwhile wait in the socket, so a frame reused too early would send other bytes.
  await h.db.query(`CREATE FUNCTION ${h.schema}.stall() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 1000 THEN PERFORM pg_sleep(1); END IF; RETURN NEW; END $$`);
  await h.db.query(`CREATE TRIGGER stall BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${h.schema}.stall()`);
  const rows = 120_000;
  const { file, sum } = csv(rows);
  const client = await h.db.connect();
  t.teardown(() => client.release());
  const socket = socketOf(client) as { writableLength: number };
  let queued = 0;
  const sampler = setInterval(() => {
    queued = Math.max(queued, socket.writableLength);
  }, 5);
  await client.query('BEGIN');
  const loader = createCopyLoader({ client, decoder: framer(), mode: 'single', textEncoding: 'utf8', statement: () => `COPY ${table} FROM STDIN WITH (FORMAT csv)`, onReject: async () => {} });
  await pipeline(Readable.from(pieces(file)), loader);
  clearInterval(sampler);
  await client.query('COMMIT');
  t.ok(queued >= FRAME_BYTES / 2, `frames waited in the socket (up to ${queued} bytes queued)`);
  const [got, want] = await sameRows(h.db, table, file, rows, sum);
  t.same(got, want, 'the same bytes, in the same rows');
});

/** A socket that holds every write (and a copy of its bytes) until its callback is called: what a full kernel buffer does. */
function holdingSocket(): { pending: Array<{ bytes: Buffer; copy: Buffer; done: (err?: Error | null) => void }>; socket: FrameSocket } {
  const pending: Array<{ bytes: Buffer; copy: Buffer; done: (err?: Error | null) => void }> = [];
  const socket: FrameSocket = {
    write(chunk, cb) {
      pending.push({ bytes: chunk, copy: Buffer.from(chunk), done: cb });
      return false;
    },
  };
  return { pending, socket };
}

t.test('frames: backpressure after FRAMES_IN_FLIGHT, reuse only after the write is called back', async (t) => {
  // Pure logic over a socket that holds every write until told.
  const { pending, socket } = holdingSocket();
  let started: (() => void) | undefined;
  const copy = { write: (_chunk: Buffer, cb: () => void) => (started = cb) } as unknown as import('node:stream').Writable;
  const frames = new CopyFrames(copy, socket, new Promise(() => {}), 8);
  const first = frames.add([Buffer.from('abc')]);
  t.ok(first, 'nothing is written before the COPY is in copy-in mode');
  started!();
  await first;
  t.equal(frames.add([Buffer.from('defghijklmnopqrstuvwx')]), undefined, 'room for three frames: no wait');
  t.equal(pending.length, FRAMES_IN_FLIGHT, 'three full frames were written');
  const waiting = frames.add([Buffer.from('yz012345')]);
  t.ok(waiting, 'a fourth frame waits for a write to be called back');
  let settled = false;
  void waiting!.then(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  t.notOk(settled, 'still waiting while every frame is in the socket');
  pending[0]!.done();
  await waiting;
  t.equal(pending.length, 4, 'the fourth frame went out once the first was written');
  t.equal(pending[3]!.bytes.buffer, pending[0]!.bytes.buffer, 'into the first frame\'s buffer');
  for (const p of pending.slice(1, 3)) t.same(p.bytes, p.copy, 'frames still in the socket were not written over');
  const end = frames.end();
  for (const p of pending.slice(1)) p.done();
  await end;
  const body = Buffer.concat(pending.map((p) => p.copy.subarray(5)));
  t.equal(body.toString(), 'abcdefghijklmnopqrstuvwxyz012345', 'the bytes in order');
  t.ok(pending.every((p) => p.copy[0] === 0x64 && p.copy.readUInt32BE(1) === p.copy.length - 1), 'each a CopyData message with its length');
});

t.test('frames of the usual size go to the next COPY once written, never while still in the socket', async (t) => {
  const { pending, socket } = holdingSocket();
  // A COPY in copy-in mode at once: the first write (the empty one) is called back.
  const copy = { write: (_chunk: Buffer, cb: () => void) => setImmediate(cb) } as unknown as import('node:stream').Writable;
  const first = new CopyFrames(copy, socket, new Promise(() => {}));
  await first.add([Buffer.alloc(2 * FRAME_BYTES, 1)]);
  t.equal(pending.length, 2);
  pending[0]!.done();
  // The first COPY's second frame is still in the socket when the next COPY starts.
  const second = new CopyFrames(copy, socket, new Promise(() => {}));
  await second.add([Buffer.alloc(FRAME_BYTES, 2)]);
  await second.add([Buffer.alloc(FRAME_BYTES, 3)]);
  t.equal(pending.length, 4);
  t.equal(pending[2]!.bytes.buffer, pending[0]!.bytes.buffer, 'the written frame went to the next COPY');
  t.not(pending[3]!.bytes.buffer, pending[1]!.bytes.buffer, 'the frame still in the socket did not');
  t.same(pending[1]!.bytes, pending[1]!.copy, 'and still holds what was written');
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
        // Abort once a good part of the file is on its way: frames are then waiting in the socket.
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

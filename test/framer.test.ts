import t from 'tap';
import { CsvFramer, type FramerOptions } from '../src/decode/csv/csvFramer.js';
import { RecordPositions, type RecordMeta } from '../src/decode/positions.js';

/** Each record's text (from the framer's output), line and offset. */
function recordsOf(records: RecordPositions, text: string): Array<{ text: string; line: number; offset: number }> {
  const all: RecordMeta[] = Array.from({ length: records.length }, (_, i) => records.at(i));
  return all.map((r, i) => ({ text: text.slice(i === 0 ? 0 : all[i - 1]!.end, r.end), line: r.line, offset: r.offset }));
}

function frame(input: string | Buffer, opts: Partial<FramerOptions> = {}, chunkSize = 3) {
  const f = new CsvFramer({ quote: '"', escape: '"', header: false, dropBom: true, trackRecords: true, ...opts });
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunkSize) f.push(buf.subarray(i, i + chunkSize), out);
  f.end(out);
  const text = Buffer.concat(out).toString('latin1');
  const recs = recordsOf(f.records, text);
  return { text, recs, stats: f.stats, header: f.headerBytes?.toString('latin1'), framer: f };
}

t.test('records, lines and offsets survive any chunking', async (t) => {
  const input = 'a,1\n"b\nb",2\r\nc,3';
  for (let size = 1; size <= input.length; size++) {
    const r = frame(input, {}, size);
    t.equal(r.text, input, `bytes unchanged (chunk ${size})`);
    t.same(r.recs, [
      { text: 'a,1\n', line: 1, offset: 0 },
      { text: '"b\nb",2\r\n', line: 2, offset: 4 },
      { text: 'c,3', line: 4, offset: 13 },
    ], `records (chunk ${size})`);
    t.equal(r.stats.lines, 4);
  }
});

t.test('blank lines are dropped and counted; COPY lines map back to the file', async (t) => {
  for (let size = 1; size <= 6; size++) {
    const r = frame('h1,h2\n\na,1\r\n\r\nb,2\n\n', { header: true }, size);
    t.equal(r.text, 'a,1\r\nb,2\n', `chunk ${size}`);
    t.equal(r.header, 'h1,h2');
    t.equal(r.stats.blankLines, 3);
    t.same(r.recs.map((x) => x.line), [3, 5]);
    // COPY sees a,1 on its line 1 and b,2 on its line 2.
    t.equal(r.framer.originalLine(1), 3);
    t.equal(r.framer.originalLine(2), 5);
  }
});

t.test('a record holding only \\. is sent quoted; look-alikes are untouched', async (t) => {
  for (let size = 1; size <= 5; size++) {
    const r = frame('a\\.\n\\.\n\\.b\n"\\."\n\\.', {}, size);
    t.equal(r.text, 'a\\.\n"\\."\n\\.b\n"\\."\n"\\."', `chunk ${size}`);
    t.equal(r.stats.endMarkersQuoted, 2);
    t.equal(r.stats.records, 5);
  }
});

t.test('a UTF-8 byte-order mark is dropped, offsets still count it', async (t) => {
  const r = frame(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('x,1\ny,2\n')]), {}, 2);
  t.equal(r.text, 'x,1\ny,2\n');
  t.same(r.recs.map((x) => x.offset), [3, 7]);
  const kept = frame(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('x\n')]), { dropBom: false });
  t.equal(kept.text.length, 5);
});

t.test('an unterminated quoted field is reported, CR-only files frame by CR', async (t) => {
  const r = frame('a,1\n"open,2\n');
  t.equal(r.stats.endedInQuote, true);
  t.equal(r.recs.length, 2);
  const mac = frame('a,1\rb,2\rc,3\r', {}, 2);
  t.same(mac.recs.map((x) => x.text), ['a,1\r', 'b,2\r', 'c,3\r']);
});

t.test('a distinct escape character only matters inside quotes', async (t) => {
  const r = frame('"a\\"\nb",1\nc\n', { escape: '\\' });
  t.same(r.recs.map((x) => x.text), ['"a\\"\nb",1\n', 'c\n']);
});

/**
 * The framer's whole contract, one byte at a time and with no carried state: the reference the fast
 * scan and the chunk handling are checked against. Records keep their line ends; blank lines are
 * dropped; a lone `\.` comes out quoted; the first record is the header when asked for.
 */
function referenceFrame(buf: Buffer, quote: number, escape: number, header: boolean) {
  const records: Array<{ text: string; line: number; offset: number }> = [];
  let headerText: string | undefined;
  let inQuote = false;
  let lastWasEscape = false;
  let line = 1;
  let start = 0;
  let startLine = 1;
  let headerDone = !header;
  const take = (end: number, termEnd: number, unterminatedInQuote: boolean) => {
    const body = buf.subarray(start, end).toString('latin1');
    const term = buf.subarray(end, termEnd).toString('latin1');
    if (!headerDone) {
      headerDone = true;
      headerText = body;
    } else if (body.length > 0) {
      const text = body === '\\.' && !unterminatedInQuote ? `${String.fromCharCode(quote)}\\.${String.fromCharCode(quote)}${term}` : body + term;
      records.push({ text, line: startLine, offset: start });
    }
  };
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === 0x0a || c === 0x0d) {
      lastWasEscape = false;
      const termEnd = c === 0x0d && buf[i + 1] === 0x0a ? i + 2 : i + 1;
      line++;
      if (!inQuote) {
        take(i, termEnd, false);
        start = termEnd;
        startLine = line;
      }
      i = termEnd - 1;
      continue;
    }
    if (quote === escape) {
      if (c === quote) inQuote = !inQuote;
    } else {
      if (inQuote && c === escape) lastWasEscape = !lastWasEscape;
      if (c === quote && !lastWasEscape) inQuote = !inQuote;
      if (c !== escape) lastWasEscape = false;
    }
  }
  if (start < buf.length) take(buf.length, buf.length, inQuote);
  return { records, header: headerText, endedInQuote: inQuote };
}

t.test('the framer agrees with a byte-by-byte reference on random input: SIMD and byte scans, tracked or not, any alignment and chunking', async (t) => {
  // xorshift32: every bit varies (a plain LCG's low bits repeat with a short period).
  let seed = 0x9e3779b9;
  const rand = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  // Quotes, line ends (CRLF, blank lines and lone `\.` records arise often), and a backslash escape.
  const alphabet = [0x22, 0x22, 0x2c, 0x0a, 0x0a, 0x0d, 0x5c, 0x2e, 0x61, 0x62, 0x31, 0x20];
  let checked = 0;
  for (let round = 0; round < 600; round++) {
    const len = rand(4) === 0 ? 1 + rand(40) : 1 + rand(5000);
    const pad = rand(16);
    const src = Buffer.alloc(len + pad);
    for (let i = 0; i < len; i++) src[pad + i] = alphabet[rand(alphabet.length)]!;
    const view = src.subarray(pad);
    const escape = rand(3) === 0 ? '\\' : '"';
    const header = rand(4) === 0;
    const simd = rand(2) === 0;
    const want = referenceFrame(view, 0x22, escape.charCodeAt(0), header);
    const f = new CsvFramer({ quote: '"', escape, header, dropBom: false, trackRecords: true, simd });
    const out: Buffer[] = [];
    const step = 1 + (rand(2) === 0 ? rand(8) : rand(3000));
    for (let i = 0; i < view.length; i += step) f.push(view.subarray(i, i + step), out);
    f.end(out);
    const text = Buffer.concat(out).toString('latin1');
    const got = recordsOf(f.records, text);
    const where = `round ${round} (len ${len}, step ${step}, pad ${pad}, escape ${escape}, header ${header}, simd ${simd})`;
    if (JSON.stringify(got) !== JSON.stringify(want.records) || f.headerBytes?.toString('latin1') !== want.header || f.stats.endedInQuote !== want.endedInQuote) {
      t.same({ records: got, header: f.headerBytes?.toString('latin1'), endedInQuote: f.stats.endedInQuote }, want, where);
      return;
    }
    if (text !== want.records.map((r) => r.text).join('')) {
      t.fail(`${where}: output differs from the records`);
      return;
    }
    // Untracked (a single COPY's framer), the usual records take a path of their own: same output, same counts.
    const plain = new CsvFramer({ quote: '"', escape, header, dropBom: false, trackRecords: false, simd });
    const plainOut: Buffer[] = [];
    for (let i = 0; i < view.length; i += step) plain.push(view.subarray(i, i + step), plainOut);
    plain.end(plainOut);
    const plainText = Buffer.concat(plainOut).toString('latin1');
    if (plainText !== text || plain.stats.records !== f.stats.records || plain.stats.lines !== f.stats.lines || plain.stats.blankLines !== f.stats.blankLines) {
      t.same({ text: plainText, stats: plain.stats }, { text, stats: f.stats }, `${where}, untracked`);
      return;
    }
    checked++;
  }
  t.equal(checked, 600, 'every round matched the reference');
});

t.test('the SIMD scan reports the same line ends as the byte scan across slice and block boundaries', async (t) => {
  const { ByteScanner, lineEndScanner } = await import('../src/decode/csv/lineEnds.js');
  const simd = lineEndScanner(0x22, 0x22);
  t.not(simd.constructor.name, 'ByteScanner', 'this runtime runs the WebAssembly SIMD scanner');
  // Long enough to cross many 16-byte blocks; quotes and line ends at every alignment.
  const parts: string[] = [];
  for (let i = 0; i < 4000; i++) parts.push(i % 7 === 0 ? '"a\nb"' : i % 5 === 0 ? '\r\n' : i % 3 === 0 ? '""' : 'xyz'.slice(0, i % 4));
  const data = Buffer.from(parts.join(''), 'latin1');
  const bytes = new ByteScanner(0x22, 0x22);
  for (const [from, to] of [[0, data.length], [0, 17], [17, 4099], [4099, data.length]] as const) {
    const a = simd.scan(data, from, to);
    const b = bytes.scan(data, from, to);
    t.same([...simd.events.subarray(0, a)], [...bytes.events.subarray(0, b)], `events of [${from}, ${to})`);
    t.equal(simd.inQuote, bytes.inQuote, `quote state after [${from}, ${to})`);
  }
});

t.test('reads longer than 64 KiB of any length frame like short ones (the scan\'s room is rounded up)', async (t) => {
  const rows: string[] = [];
  for (let i = 0, length = 0; length < 400_000; i++) {
    rows.push(i % 11 === 0 ? `${i},"x\ny"\n` : `${i},${'v'.repeat(i % 29)}\n`);
    length += rows[i]!.length;
  }
  const input = Buffer.from(rows.join(''), 'latin1');
  for (const size of [70_001, 131_075, 65_537, 99_999]) {
    const r = frame(input, {}, size);
    t.equal(r.text, input.toString('latin1'), `bytes unchanged (reads of ${size})`);
    t.equal(r.recs.length, rows.length, `every record (reads of ${size})`);
  }
});

t.test('the embedded WebAssembly module is what wasm/lineEnds.ts compiles to', async (t) => {
  const { readFile } = await import('node:fs/promises');
  const { compileLineEnds } = await import('../scripts/build-wasm.js');
  const committed = await readFile(new URL('../src/decode/csv/lineEndsWasm.ts', import.meta.url), 'utf8');
  t.equal(committed, compileLineEnds(), 'regenerate with npm run build:wasm');
});

t.test('record positions grow past their first size and hand out a head of their own', async (t) => {
  const p = new RecordPositions(2);
  for (let i = 0; i < 10; i++) p.push(100 * (i + 1), i + 1, 5_000_000_000 + i);
  t.equal(p.length, 10);
  t.same(p.at(9), { end: 1000, line: 10, offset: 5_000_000_009 }, 'offsets past 4 GB stay exact');
  const head = p.shift(4);
  t.same([head.length, head.end(3), head.line(0)], [4, 400, 1]);
  t.same([p.length, p.end(0), p.line(0), p.offset(5)], [6, 500, 5, 5_000_000_009]);
  p.clear();
  t.equal(p.length, 0);
});

import t from 'tap';
import { CsvFramer, type FramerOptions } from '../src/scan/csvFramer.js';

function frame(input: string | Buffer, opts: Partial<FramerOptions> = {}, chunkSize = 3) {
  const f = new CsvFramer({ quote: '"', escape: '"', header: false, dropBom: true, trackRecords: true, ...opts });
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunkSize) f.push(buf.subarray(i, i + chunkSize), out);
  f.end(out);
  const text = Buffer.concat(out).toString('latin1');
  const recs = f.records.map((r, i) => ({ text: text.slice(i === 0 ? 0 : f.records[i - 1]!.end, r.end), line: r.line, offset: r.offset }));
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

/** The record ends COPY's CSV rules give, one byte at a time: the reference for the fast scan. */
function referenceEnds(buf: Buffer): number[] {
  const ends: number[] = [];
  let inQuote = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x22) inQuote = !inQuote;
    else if (!inQuote && (c === 0x0a || c === 0x0d)) {
      if (c === 0x0d && buf[i + 1] === 0x0a) i++;
      ends.push(i + 1);
    }
  }
  if (ends.at(-1) !== buf.length && buf.length > 0) ends.push(buf.length);
  return ends;
}

t.test('the word-at-a-time scan agrees with a byte-by-byte reference on random input, any alignment and chunking', async (t) => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const alphabet = [0x22, 0x22, 0x2c, 0x0a, 0x0d, 0x61, 0x62, 0x63, 0x64, 0x31, 0x20];
  for (let round = 0; round < 300; round++) {
    const len = 1 + rand(3000);
    const pad = rand(8);
    const backing = Buffer.alloc(len + pad);
    for (let i = 0; i < len; i++) backing[pad + i] = alphabet[rand(alphabet.length)]!;
    // Keep blank lines and lone `\.` out: those the framer changes on purpose.
    let text = backing.subarray(pad).toString('latin1');
    if (/^[\r\n]/.test(text)) text = `x${text}`;
    text = text.replace(/([\r\n])(?=[\r\n])/g, '$1x');
    const input = Buffer.from(text, 'latin1');
    const src = Buffer.alloc(input.length + pad);
    input.copy(src, pad);
    const view = src.subarray(pad);
    const f = new CsvFramer({ quote: '"', escape: '"', header: false, dropBom: false, trackRecords: true });
    const out: Buffer[] = [];
    const step = 1 + rand(700);
    for (let i = 0; i < view.length; i += step) f.push(view.subarray(i, i + step), out);
    f.end(out);
    const got = f.records.map((r) => r.end);
    const want = referenceEnds(view);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.fail(`round ${round}: record ends differ (len ${view.length}, step ${step}, pad ${pad})`);
      return;
    }
    t.equal(Buffer.concat(out).length, view.length, `round ${round}: bytes unchanged`);
  }
});

import t from 'tap';
import { CopyCsvWriter } from '../src/decode/copyCsvWriter.js';

// The writer's bytes equal the generated dialect's text (decode/copyCsv.ts: NULL is the empty unquoted
// field, every other value quoted with quotes doubled), whatever the values.
const field = (v: string | null | undefined): string => (v === null || v === undefined ? '' : `"${v.replaceAll('"', '""')}"`);
const count = (text: string, c: string): number => text.split(c).length - 1;
const values: Array<string | null | undefined> = [
  'plain',
  null,
  '',
  undefined,
  'a "quoted", comma',
  'two\nlines',
  'cr\r\nlf',
  'ünïcödé ✓',
  'emoji 😀 and a lone half \ud800',
  '"',
  'x'.repeat(5000),
];

t.test('records are their fields joined by commas, with the line breaks counted per record', async (t) => {
  const w = new CopyCsvWriter(16); // grown many times
  let expected = '';
  const ends: number[] = [];
  for (let r = 0; r < 50; r++) {
    const record = [values[r % values.length], values[(r * 7) % values.length], values[(r * 3 + 1) % values.length]];
    for (const v of record) w.field(v);
    const text = record.map((v) => v ?? '').join('');
    t.same([w.lf, w.cr], [count(text, '\n'), count(text, '\r')], `record ${r}: line breaks`);
    ends.push(w.endRecord());
    expected += `${record.map(field).join(',')}\n`;
  }
  const out = w.take();
  // Compared as bytes: a lone surrogate becomes U+FFFD in both, as Buffer.from makes it.
  t.ok(out.equals(Buffer.from(expected, 'utf8')), 'the bytes of the string form');
  t.equal(out.length, Buffer.byteLength(expected));
  t.equal(ends.at(-1), out.length);
  // Every end is just past a record's LF.
  t.ok(ends.every((e) => out[e - 1] === 0x0a));
});

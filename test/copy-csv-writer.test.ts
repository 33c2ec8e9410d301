import t from 'tap';
import { CopyCsvWriter } from '../src/decode/copyCsvWriter.js';
import { csvField, lineBreaks } from '../src/decode/copyCsv.js';

// The writer's bytes equal the string form of the generated dialect (csvField), whatever the values.
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

t.test('records equal csvField joined by commas, with the line breaks counted per record', async (t) => {
  const w = new CopyCsvWriter(16); // grown many times
  let expected = '';
  const ends: number[] = [];
  for (let r = 0; r < 50; r++) {
    const record = [values[r % values.length], values[(r * 7) % values.length], values[(r * 3 + 1) % values.length]];
    for (const v of record) w.field(v);
    const { lf, cr } = lineBreaks(record.map((v) => v ?? '').join(''));
    t.same([w.lf, w.cr], [lf, cr], `record ${r}: line breaks`);
    ends.push(w.endRecord());
    expected += `${record.map(csvField).join(',')}\n`;
  }
  const out = w.take();
  // Compared as bytes: a lone surrogate becomes U+FFFD in both, as Buffer.from makes it.
  t.ok(out.equals(Buffer.from(expected, 'utf8')), 'the bytes of the string form');
  t.equal(out.length, Buffer.byteLength(expected));
  t.equal(ends.at(-1), out.length);
  // Every end is just past a record's LF.
  t.ok(ends.every((e) => out[e - 1] === 0x0a));
});

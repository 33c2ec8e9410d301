import t from 'tap';
import { RecordScanner } from '../src/scan/recordScanner.js';

function scan(input: string, opts = { quote: '"', escape: '"' }, chunkSize = 3) {
  const s = new RecordScanner(opts);
  const buf = Buffer.from(input, 'latin1');
  for (let i = 0; i < buf.length; i += chunkSize) (s as any).scan(buf.subarray(i, i + chunkSize));
  return { ...s.counts(), endedInQuote: s.endedInQuote };
}

t.test('counts records the way COPY CSV splits them, across chunk boundaries', async (t) => {
  t.same(scan(''), { bytes: 0, records: 0, lines: 0, endedInQuote: false });
  t.same(scan('a,b\n'), { bytes: 4, records: 1, lines: 1, endedInQuote: false });
  t.same(scan('a,b'), { bytes: 3, records: 1, lines: 1, endedInQuote: false }, 'last record without a line end');
  t.same(scan('a\r\nb\r\n'), { bytes: 6, records: 2, lines: 2, endedInQuote: false }, 'CRLF once');
  t.same(scan('a\rb\r'), { bytes: 4, records: 2, lines: 2, endedInQuote: false }, 'bare CR');
  t.same(scan('"x\ny",1\n2\n'), { bytes: 10, records: 2, lines: 3, endedInQuote: false }, 'quoted line break');
  t.same(scan('"a""b\n",1\n'), { bytes: 10, records: 1, lines: 2, endedInQuote: false }, 'doubled quote inside quotes');
  t.same(scan('"open\nfield'), { bytes: 11, records: 1, lines: 2, endedInQuote: true }, 'truncated quoted field');
  t.same(scan('\n\n'), { bytes: 2, records: 2, lines: 2, endedInQuote: false }, 'blank lines are records to COPY');
  for (let size = 1; size <= 8; size++) {
    t.equal(scan('"a\r\nb",1\r\nc,2\r\n', { quote: '"', escape: '"' }, size).records, 2, `chunk size ${size}`);
  }
});

t.test('an escape character other than the quote only matters inside quotes', async (t) => {
  const opts = { quote: '"', escape: '\\' };
  t.equal(scan('"a\\"b\nc",1\n', opts).records, 1, 'escaped quote keeps the field open over the line break');
  t.equal(scan('"a\\\\"\nb\n', opts).records, 2, 'an escaped escape does not escape the quote');
  t.equal(scan('a\\"b\nc\n', opts).records, 1, 'outside quotes the backslash is data, the quote opens a field');
});

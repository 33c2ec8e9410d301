import { randomUUID } from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { NdjsonDecoder, type NdjsonDecoderOptions } from '../src/decode/ndjson/ndjsonDecoder.js';
import { copyGenerated, parseGenerated, testDatabaseUrl } from './helpers/parquetFiles.js';

function decode(input: string | Buffer, opts: Partial<NdjsonDecoderOptions> & { columns: string[] }, chunkSize = 5) {
  const d = new NdjsonDecoder({ trackRecords: true, ...opts });
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunkSize) d.push(Buffer.from(buf.subarray(i, i + chunkSize)), out);
  d.end(out);
  const output = Buffer.concat(out);
  return { d, output, records: parseGenerated(output.toString('utf8')), invalid: d.invalid.splice(0) };
}

t.test('fields map to columns by name and rename; unknown ignored, missing NULL; values as COPY text', async (t) => {
  const input = [
    '{"id": 1, "name": "a \\"b\\", c", "ok": true, "extra": 5, "tags": ["x", 1], "meta": {"k": null}}',
    '{"ok": false, "id": 2.5, "nm": "renamed", "price": null}',
    '{"id": 12345678901234567890, "price": 0.10000000000000000001, "name": ""}',
  ].join('\n');
  const { records, d, invalid } = decode(input, { columns: ['id', 'name', 'ok', 'tags', 'meta', 'price'], rename: { nm: 'name' } });
  t.same(invalid, []);
  t.same(records, [
    ['1', 'a "b", c', 'true', '["x",1]', '{"k":null}', null],
    ['2.5', 'renamed', 'false', null, null, null],
    ['12345678901234567890', '', null, null, null, '0.10000000000000000001'],
  ]);
  t.equal(d.stats.records, 3);
});

t.test('every chunking gives the same output, lines and byte offsets', async (t) => {
  const input = '\uFEFF{"a":1}\r\n\r\n{"a":"é"}\n   \n{"a":3}';
  const whole = decode(input, { columns: ['a'] }, 1000);
  for (let size = 1; size <= 12; size++) {
    const r = decode(input, { columns: ['a'] }, size);
    t.equal(r.output.toString(), '"1"\n"é"\n"3"\n', `chunk ${size}`);
    t.same(Array.from({ length: r.d.records.length }, (_, i) => r.d.records.at(i)), Array.from({ length: 3 }, (_, i) => whole.d.records.at(i)));
  }
  const recs = whole.d.records;
  // BOM dropped (its bytes count in offsets), CRLF accepted, blank and whitespace-only lines dropped.
  t.same([recs.at(0), recs.at(1), recs.at(2)], [
    { end: 4, line: 1, offset: 3 },
    { end: 9, line: 3, offset: 14 },
    { end: 13, line: 5, offset: 29 },
  ]);
  t.same(whole.d.stats, { bytesIn: Buffer.byteLength(input), records: 3, blankLines: 2, endedInQuote: false, lines: 5, invalidLines: 0 });
  t.same(whole.d.describe(3, 14), { line: 3, byteOffset: 14 });
});

t.test('invalid lines are reported with line and offset; lines reconcile', async (t) => {
  const utf8Prefix = Buffer.from('{"a":1}\n{"a":\n[1,2]\n\n"str"\nnull\n{"a":2}\n');
  const bytes = Buffer.concat([utf8Prefix, Buffer.from([0xff]), Buffer.from('{"a":3}\n')]);
  for (const size of [1, 3, 64]) {
    const { records, invalid, d } = decode(bytes, { columns: ['a'] }, size);
    t.same(records, [['1'], ['2']]);
    t.same(invalid.map((x) => [x.line, x.byteOffset, x.message.replace(/:.*/, '')]), [
      [2, 8, 'not valid JSON'],
      [3, 14, 'not a JSON object (an array)'],
      [5, 21, 'not a JSON object (string)'],
      [6, 27, 'not a JSON object (null)'],
      [8, 40, 'not valid UTF-8'],
    ]);
    t.equal(invalid[0]!.record, '{"a":');
    const s = d.stats;
    t.equal(s.records + s.invalidLines + s.blankLines, s.lines, 'records + invalid + blank = lines');
    t.same([s.records, s.invalidLines, s.blankLines, s.lines], [2, 5, 1, 8]);
    // COPY's line 2 is the record from line 7 (lines 2-6 gave none).
    t.equal(d.originalLine(2), 7);
  }
});

t.test('values with line breaks: COPY line numbers map back to the source lines', async (t) => {
  const input = ['{"s":"one"}', '{"s":"two\\nlines"}', '', '{"s":"x"}', '{"s":"a\\r\\nb\\nc"}', '{"s":"last"}'].join('\n') + '\n';
  const { d, records } = decode(input, { columns: ['s'] }, 7);
  t.same(records, [['one'], ['two\nlines'], ['x'], ['a\r\nb\nc'], ['last']]);
  // Physical lines COPY counts from the start: 1 one, 2-3 two, 4 x, 5-7 a..c, 8 last.
  t.same([1, 2, 3, 4, 5, 6, 7, 8].map((l) => d.originalLine(l)), [1, 2, 2, 4, 5, 5, 5, 6]);
  // A COPY starting at line 5 (a chunk): its first record's LFs do not count (COPY counts CRs until the
  // first line end), so "a\r\nb\nc" is 2 lines (one CR) and "last" is COPY line 3.
  t.equal(d.originalLineFrom(5, 1), 5);
  t.equal(d.originalLineFrom(5, 2), 5);
  t.equal(d.originalLineFrom(5, 3), 6);
  // Starting at the blank line 3: same as starting at 4.
  t.equal(d.originalLineFrom(3, 2), 5);
});

t.test('cuts: after the first line ending at or past every multiple of cutEvery bytes', async (t) => {
  const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ id: i, pad: 'x'.repeat(i % 7) }));
  const input = lines.join('\n') + '\n';
  for (const size of [3, 50, 4096]) {
    const { d, output } = decode(input, { columns: ['id'], cutEvery: 200 }, size);
    t.ok(d.cuts.length >= Math.floor(Buffer.byteLength(input) / 200) - 1);
    let lineEnd = 0;
    const ends = lines.map((l) => (lineEnd += Buffer.byteLength(l) + 1));
    for (const cut of d.cuts) {
      const i = cut.line - 2; // the line the cut follows
      t.equal(cut.offset, ends[i]);
      t.ok(ends[i]! >= 200 && (i === 0 || Math.floor(ends[i - 1]! / 200) < Math.floor(ends[i]! / 200)), 'first line past a multiple');
      t.equal(cut.records, i + 1);
      t.equal(cut.out, d.records.end(i));
      t.equal(output.subarray(0, cut.out).toString().split('\n').length - 1, i + 1);
    }
  }
});

t.test('nested values and numbers load into PostgreSQL json, jsonb, numeric and text columns', async (t) => {
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  await client.connect();
  const schema = `ndjson_${randomUUID().replaceAll('-', '')}`;
  t.teardown(async () => {
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  });
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`CREATE TABLE ${schema}.t (id numeric NOT NULL, doc jsonb, raw json, label text, flag boolean, note text)`);
  const input = [
    '{"id": 12345678901234567890, "doc": {"a": [1, 2, {"b": "c\\"d"}], "n": 1.5}, "raw": [true, null], "label": "x,\\"y\\"", "flag": true}',
    '{"id": 2, "doc": {"a": []}, "label": "line\\nbreak", "flag": false, "note": {"as": "text"}}',
    '{"id": 3, "doc": null, "label": "", "flag": null}',
  ].join('\n');
  const columns = ['id', 'doc', 'raw', 'label', 'flag', 'note'];
  const { output, d } = decode(input, { columns }, 11);
  t.equal(await copyGenerated(client, `${schema}.t`, columns, output), 3);
  t.equal(d.stats.records, 3);
  const r = await client.query(`SELECT sum(id)::text AS ids, sum(jsonb_array_length(doc->'a')) AS a, string_agg(doc #>> '{a,2,b}', '') AS b,
    count(*) FILTER (WHERE raw::text = '[true,null]') AS raw, count(*) FILTER (WHERE label = 'line' || chr(10) || 'break') AS lb,
    count(*) FILTER (WHERE label = '') AS empty, count(*) FILTER (WHERE flag) AS t, count(*) FILTER (WHERE flag IS NULL) AS n,
    max(note) AS note, max((doc->>'n')::numeric)::text AS num FROM ${schema}.t`);
  t.same(r.rows[0], { ids: '12345678901234567895', a: '3', b: 'c"d', raw: '1', lb: '1', empty: '1', t: '1', n: '1', note: '{"as":"text"}', num: '1.5' });
});

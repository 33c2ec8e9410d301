// Parquet written by Arrow's C++ writer (test/fixtures/parquet/make.py): data pages v1, as Spark writes
// them by default, and v2; many small pages per column chunk, dictionary pages that give way to plain
// ones, nulls, three row groups. Every value must come out as the text the fixture's recipe says, and
// load into PostgreSQL.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import t from 'tap';
import { laterOutput } from '../src/decode/decoder.js';
import { ParquetDecoder } from '../src/decode/parquet/parquetDecoder.js';
import { copyGenerated, parseGenerated, testDatabaseUrl } from './helpers/parquetFiles.js';

const ROWS = 3000;
const notes = ['plain', 'a "quoted", comma', '', 'two\nlines', 'ünïcödé ✓', 'emoji 😀'];
const columns = ['id', 'name', 'note', 'qty', 'flag', 'at'];

/** The text of row i's values, as make.py builds them. */
function expected(i: number): Array<string | null> {
  const at = new Date((1_600_000_000 + i * 3_601) * 1000).toISOString();
  return [
    String(i),
    i % 7 === 0 ? null : `name${i % 13}`,
    i % 11 === 0 ? null : `${notes[i % notes.length]} ${i}`,
    i % 5 === 0 ? null : String(((i * 37) % 1000) - 500),
    i % 3 === 0 ? null : String(i % 2 === 0),
    i % 9 === 0 ? null : `${at.slice(0, 10)} ${at.slice(11, 19)}+00`,
  ];
}

async function decode(file: Buffer): Promise<{ output: Buffer; decoder: ParquetDecoder }> {
  const decoder = new ParquetDecoder({ columns, trackRecords: true });
  const range = await decoder.prepare(async (r) => file.subarray(r.start, r.end), file.length);
  const out: Buffer[] = [];
  let step = 1;
  for (let at = range.start; at < range.end; ) {
    const n = Math.min(step, range.end - at);
    decoder.push(file.subarray(at, at + n), out);
    out.push(...laterOutput(decoder, { ms: 0 }));
    at += n;
    step = (step * 7 + 3) % 4099;
  }
  decoder.end(out);
  out.push(...laterOutput(decoder, { ms: 0 }));
  return { output: Buffer.concat(out), decoder };
}

for (const version of [1, 2]) {
  t.test(`data pages v${version}: every value of three row groups of many pages`, async (t) => {
    const file = await readFile(fileURLToPath(new URL(`fixtures/parquet/pages-v${version}.parquet`, import.meta.url)));
    const { output, decoder } = await decode(file);
    t.equal(decoder.metadata!.row_groups.length, 3);
    const records = parseGenerated(output.toString('utf8'));
    t.equal(records.length, ROWS);
    let wrong = 0;
    for (let i = 0; i < ROWS; i++) {
      if (JSON.stringify(records[i]) !== JSON.stringify(expected(i)) && wrong++ < 3) t.same(records[i], expected(i), `row ${i}`);
    }
    t.equal(wrong, 0, 'rows that differ');
    // Record ends (batch mode's positions) fall just past each record's line end, the last at the end.
    t.equal(decoder.records.length, ROWS);
    t.equal(decoder.records.end(ROWS - 1), output.length);

    const client = new pg.Client({ connectionString: testDatabaseUrl });
    await client.connect();
    t.teardown(() => client.end());
    const table = `pq_pages_v${version}_${process.pid}`;
    await client.query(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id bigint, name text, note text, qty int, flag boolean, at timestamptz)`);
    t.teardown(() => client.query(`DROP TABLE IF EXISTS ${table}`));
    t.equal(await copyGenerated(client, table, columns, output), ROWS);
    let qty = 0;
    let present = 0;
    let tall = 0;
    for (let i = 0; i < ROWS; i++) {
      if (i % 5 !== 0) qty += ((i * 37) % 1000) - 500;
      if (i % 11 !== 0) present++;
      if (i % 11 !== 0 && notes[i % notes.length] === 'two\nlines') tall++;
    }
    const { rows } = await client.query(
      `SELECT sum(qty)::int AS qty, count(note)::int AS notes, count(*) FILTER (WHERE note LIKE 'two' || chr(10) || 'lines%')::int AS tall,
              min(at) = to_timestamp(1600000000 + 3601) AS first_at FROM ${table}`,
    );
    t.same(rows[0], { qty, notes: present, tall, first_at: true });
  });
}

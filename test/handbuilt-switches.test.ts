// The switch of the hand-built parts (src/handbuilt/switches.ts, CITUS_INGEST_PLAIN): with a part turned
// off the well-kept alternative runs instead, and a load gives the same rows either way.
import copyStreams from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import { pricePaidCsv, ukPriceTableSql } from '../src/gen/pricePaid.js';
import { setPlainParts } from '../src/handbuilt/switches.js';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';

t.test('CITUS_INGEST_PLAIN names known parts only', async (t) => {
  t.throws(() => setPlainParts('scan,frames'), /CITUS_INGEST_PLAIN: unknown part\(s\) frames; known: gc, scan, all/);
  setPlainParts('');
});

t.test('scan off: the byte scan frames the CSV, no WebAssembly runs, and the rows are those COPY makes of the same bytes', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  t.teardown(() => setPlainParts(''));
  // The WebAssembly scan is an instance of its module per framer: count the instances made.
  const Instance = WebAssembly.Instance;
  let instances = 0;
  WebAssembly.Instance = new Proxy(Instance, {
    construct(target, args) {
      instances++;
      return Reflect.construct(target, args) as object;
    },
  });
  t.teardown(() => {
    WebAssembly.Instance = Instance;
  });

  const csv = pricePaidCsv(50_000, 7);
  const url = await h.put('pp.csv', csv);
  await h.db.query(ukPriceTableSql(`${h.schema}.reference`));
  const client = await h.db.connect();
  try {
    await pipeline(Readable.from([csv]), client.query(copyStreams.from(`COPY ${h.schema}.reference FROM STDIN (FORMAT csv)`)));
  } finally {
    client.release();
  }
  const digest = async (table: string): Promise<{ n: number; md5: string }> =>
    (await h.db.query(`SELECT count(*)::int AS n, md5(string_agg(t::text, E'\\n' ORDER BY transaction_unique_identifier)) AS md5 FROM ${h.schema}.${table} t`)).rows[0];
  const reference = await digest('reference');
  t.equal(reference.n, 50_000);

  const svc = await h.start('all');
  const load = async (table: string, plain: string): Promise<number> => {
    setPlainParts(plain);
    await h.db.query(ukPriceTableSql(`${h.schema}.${table}`));
    const before = instances;
    const posted = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.${table}` } });
    t.equal(posted.status, 202, JSON.stringify(posted.body));
    const job = await waitForJob(svc.url!, posted.body.id);
    t.equal(job.status, 'succeeded', JSON.stringify(job.error));
    t.same(await digest(table), reference, `${table}: every row and every field as COPY of the same bytes has them`);
    return instances - before;
  };
  t.equal(await load('with_byte_scan', 'scan'), 0, 'with the scan off no WebAssembly instance is made');
  t.ok((await load('with_wasm_scan', '')) >= 1, 'with it on the load makes one');
});

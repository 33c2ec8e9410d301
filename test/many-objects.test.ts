// A job over a prefix of 2,500 objects: the listing pages past S3's 1,000 keys, every object loads
// exactly once, the job document stays small (each run's first files and a count), and
// GET /jobs/:id/files pages through every file.
import t from 'tap';
import { mapLimit } from '../src/load/mapLimit.js';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';

const OBJECTS = 2_500;

t.test(`a prefix of ${OBJECTS} objects loads each once, with a small job document and paged files`, async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.many (a int)`);
  const keys = Array.from({ length: OBJECTS }, (_, i) => `many/part-${String(i).padStart(5, '0')}.csv`);
  await mapLimit(keys, 32, new AbortController().signal, (key) => h.put(key, `${Number(key.slice(10, 15)) + 1}\n`));
  const svc = await h.start('all', { workerMaxObjects: 16 });
  const { body } = await postJob(svc.url!, { source: { url: 's3://landing/many/' }, target: { table: `${h.schema}.many` }, concurrency: 16 });
  const job = await waitForJob(svc.url!, body.id, undefined, 600_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.filesLoaded, OBJECTS);
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT a)::int AS d, sum(a)::bigint AS s FROM ${h.schema}.many`);
  t.same(rows[0], { n: OBJECTS, d: OBJECTS, s: (OBJECTS * (OBJECTS + 1)) / 2 }, 'every object once');

  const doc = await (await fetch(`${svc.url}/jobs/${body.id}`)).text();
  const run = JSON.parse(doc).runs.at(-1);
  t.equal(run.fileCount, OBJECTS, 'the run counts its files');
  t.equal(run.files.length, 20, 'and shows only the first ones');
  // Progress samples grow with the run's duration (one per PROGRESS_INTERVAL_MS, long on a busy machine),
  // not with its files: the rest of the document must not grow with the files (710 KB for 2,000 inline).
  const parsed = JSON.parse(doc);
  for (const r of parsed.runs) delete r.samples;
  const withoutSamples = JSON.stringify(parsed).length;
  t.ok(withoutSamples < 30_000, `the job document is ${doc.length} bytes, ${withoutSamples} without the progress samples`);

  const seen = new Map<string, number>();
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await fetch(`${svc.url}/jobs/${body.id}/files?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(res.status, 200);
    const page = (await res.json()) as any;
    for (const f of page.files) seen.set(f.key, (seen.get(f.key) ?? 0) + f.rowsLoaded);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor && pages < 10);
  t.equal(pages, 3, 'three pages of 1,000');
  t.same([...seen.keys()], keys, 'every key once, in key order');
  t.ok([...seen.values()].every((n) => n === 1), 'each file loaded its one row');
  const loaded = (await (await fetch(`${svc.url}/jobs/${body.id}/files?status=loaded&limit=1`)).json()) as any;
  t.equal(loaded.files[0].key, keys[0], 'filtered by status');
  const bad = await fetch(`${svc.url}/jobs/${body.id}/files?cursor=bm9wZQ`);
  t.equal(bad.status, 400, 'a cursor it did not make is refused');
});

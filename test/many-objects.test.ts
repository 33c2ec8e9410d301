// A job over a prefix of 2,500 objects: the listing pages past S3's 1,000 keys and is streamed (the
// first objects commit before the last page is asked for), every object loads exactly once, the job
// document stays small (each run's first files and a count), and GET /jobs/:id/files pages through
// every file. A listing that fails after its first page fails the run with the source's code; what
// committed stays, and the retry skips it.
import t from 'tap';
import { mapLimit } from '../src/load/mapLimit.js';
import { createHarness, postJob, waitForJob, type Harness } from './helpers/harness.js';

const OBJECTS = 2_500;

/**
 * A harness whose bucket holds `count` objects below `${table}/` (part-00000.csv ...), object i holding
 * the one row i + 1, and an empty table of that name to load them into.
 */
async function prefixOf(t: { teardown(fn: () => unknown): void }, table: string, count: number): Promise<{ h: Harness; keys: string[] }> {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.${table} (a int)`);
  const keys = Array.from({ length: count }, (_, i) => `${table}/part-${String(i).padStart(5, '0')}.csv`);
  await mapLimit(keys, 32, new AbortController().signal, (key) => h.put(key, `${Number(key.slice(-9, -4)) + 1}\n`));
  return { h, keys };
}

/** Ledger rows committed for a target (the test's own schema). */
async function ledgerRows(h: Harness, table: string): Promise<number> {
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ingest.file_ledger WHERE target = $1`, [`"${h.schema}"."${table}"`]);
  return rows[0].n;
}

t.test(`a prefix of ${OBJECTS} objects loads each once, with a small job document and paged files`, async (t) => {
  const { h, keys } = await prefixOf(t, 'many', OBJECTS);
  // Each list request, with the ledger rows committed when it arrived (the answer waits for the count).
  const requests: Array<{ startAfter: string | undefined; committed: number }> = [];
  let jobWhileListing: { listing_complete: boolean | null; objects_listed: number | null } | undefined;
  h.s3.onList = async ({ prefix, startAfter }) => {
    if (prefix !== 'many/') return;
    requests.push({ startAfter, committed: await ledgerRows(h, 'many') });
    if (startAfter !== keys[1999]) return;
    // What the job row says while the last page is being listed (once the run has recorded progress).
    for (let waited = 0; waited < 10_000 && !jobWhileListing; waited += 50) {
      const { rows } = await h.db.query(`SELECT listing_complete, objects_listed FROM ingest.jobs WHERE target = $1 AND listing_complete IS NOT NULL`, [`"${h.schema}"."many"`]);
      if (rows[0]) jobWhileListing = rows[0];
      else await new Promise((r) => setTimeout(r, 50));
    }
  };
  const svc = await h.start('all', { workerMaxObjects: 16 });
  const { body } = await postJob(svc.url!, { source: { url: 's3://landing/many/' }, target: { table: `${h.schema}.many` }, concurrency: 16 });
  const job = await waitForJob(svc.url!, body.id, undefined, 600_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.filesLoaded, OBJECTS);
  t.same(requests.map((r) => r.startAfter), [undefined, keys[999], keys[1999]], 'three list requests, one per page of 1,000');
  t.equal(requests[0]!.committed, 0, 'nothing committed before the listing began');
  t.ok(requests[2]!.committed > 0, `${requests[2]!.committed} objects committed before the last page was asked for: loading began while the listing went on`);
  t.equal(jobWhileListing?.listing_complete, false, 'while the last page was listed the job said its listing was in progress');
  t.ok(jobWhileListing!.objects_listed! > 0 && jobWhileListing!.objects_listed! < OBJECTS, `with ${jobWhileListing?.objects_listed} objects listed so far`);
  t.same(
    { listing: job.progress.listing, objectsListed: job.progress.objectsListed, bytesTotal: job.progress.bytesTotal },
    { listing: 'complete', objectsListed: OBJECTS, bytesTotal: keys.reduce((a, _k, i) => a + `${i + 1}\n`.length, 0) },
    'the listing is complete and its totals known',
  );
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

t.test('a listing that fails after its first page: the run fails with the source\'s code, committed files stay, the retry skips them', async (t) => {
  const objects = 1_500;
  const { h } = await prefixOf(t, 'broken', objects);
  // The second page fails (every attempt the SDK makes at it) once some of the first page has committed,
  // until the next run lists the prefix again from its first page.
  let failing = true;
  let failures = 0;
  let committedAtFailure = 0;
  h.s3.onList = async ({ prefix, startAfter }) => {
    if (prefix !== 'broken/') return;
    if (startAfter === undefined) {
      if (failures > 0) failing = false;
      return;
    }
    if (!failing) return;
    for (let waited = 0; committedAtFailure === 0 && waited < 60_000; waited += 50) {
      const n = await ledgerRows(h, 'broken');
      if (n > 0) committedAtFailure = n;
      else await new Promise((r) => setTimeout(r, 50));
    }
    failures += 1;
    throw new Error('the second page is not there today');
  };
  const svc = await h.start('all', { workerMaxObjects: 8, jobAttempts: 2 });
  const { body } = await postJob(svc.url!, { source: { url: 's3://landing/broken/' }, target: { table: `${h.schema}.broken` }, concurrency: 8 });
  const job = await waitForJob(svc.url!, body.id, undefined, 600_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const doc = (await (await fetch(`${svc.url}/jobs/${body.id}`)).json()) as any;
  const [first, second] = doc.runs;
  t.equal(first.status, 'failed');
  t.equal(first.error.code, 'SOURCE_UNAVAILABLE', 'the source\'s error code');
  t.match(first.error.message, /s3:\/\/landing\/broken\//, 'naming the prefix');
  const { rows: [byFirst] } = await h.db.query(`SELECT count(*)::int AS n, coalesce(sum(rows_loaded), 0)::int AS rows FROM ingest.file_ledger WHERE run_id = $1`, [first.id]);
  t.ok(committedAtFailure > 0 && byFirst.n >= committedAtFailure && byFirst.n < objects, `the failed run committed ${byFirst.n} files (${committedAtFailure} when the page failed) and kept them`);
  t.equal(first.rowsLoaded, byFirst.rows, 'the failed run reports the rows it committed');
  t.equal(second.status, 'succeeded');
  t.equal(job.result.filesSkipped, byFirst.n, 'the retry skips exactly what the failed run committed');
  const { rows: [files] } = await h.db.query(
    `SELECT count(*) FILTER (WHERE status = 'skipped' AND loaded_by_run = $2)::int AS skipped, count(*) FILTER (WHERE status = 'loaded')::int AS loaded FROM ingest.run_files WHERE run_id = $1`,
    [second.id, first.id],
  );
  t.same(files, { skipped: byFirst.n, loaded: objects - byFirst.n }, 'the retry\'s files: those skipped name the run that loaded them');
  t.equal(second.fileCount, objects, 'and the run counts every file');
  t.equal(job.result.filesLoaded, objects - byFirst.n, 'and loads the rest');
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT a)::int AS d, sum(a)::bigint AS s FROM ${h.schema}.broken`);
  t.same(rows[0], { n: objects, d: objects, s: (objects * (objects + 1)) / 2 }, 'every object once');
});

t.test('a cancel while a later page is being listed aborts that list request and ends the run cancelled', async (t) => {
  const objects = 1_100;
  const { h, keys } = await prefixOf(t, 'stopped', objects);
  const target = `"${h.schema}"."stopped"`;
  const svc = await h.start('all', { workerMaxObjects: 4 });
  // The second page's answer is held until the job is cancelled (asked for once loading has begun).
  const laterPages: string[] = [];
  h.s3.onList = async ({ prefix, startAfter }) => {
    if (prefix !== 'stopped/' || startAfter === undefined) return;
    laterPages.push(startAfter);
    for (let waited = 0; waited < 60_000 && (await ledgerRows(h, 'stopped')) === 0; waited += 50) await new Promise((r) => setTimeout(r, 50));
    const { rows: [job] } = await h.db.query(`SELECT id FROM ingest.jobs WHERE target = $1`, [target]);
    await fetch(`${svc.url}/jobs/${job.id}/cancel`, { method: 'POST' });
    for (let waited = 0; waited < 60_000; waited += 50) {
      const { rows: [now] } = await h.db.query(`SELECT status FROM ingest.jobs WHERE id = $1`, [job.id]);
      if (now.status === 'cancelled') return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const { body } = await postJob(svc.url!, { source: { url: 's3://landing/stopped/' }, target: { table: `${h.schema}.stopped` }, concurrency: 4 });
  const job = await waitForJob(svc.url!, body.id, undefined, 300_000);
  t.equal(job.status, 'cancelled', 'the run ended cancelled while its listing waited on the store');
  t.same(laterPages, [keys[999]], 'the second page was asked for once, and never again');
  t.equal(job.progress.listing, 'in progress', 'the job says its listing never completed');
  t.equal(job.progress.objectsListed, 1000, 'after the first page');
  t.equal(job.progress.bytesTotal, null, 'so no total is claimed');
  const committed = await ledgerRows(h, 'stopped');
  const { rows: [table] } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.stopped`);
  t.ok(committed > 0 && committed < objects, `${committed} objects committed before the cancel`);
  t.equal(table.n, committed, 'exactly their rows are in the table');
});

// The dashboard in a real browser: Debian's headless Chromium driven by playwright-core, against the
// service with real PostgreSQL, Redis and S3. Checks what a user sees: the job in the list with its
// row count, the stage and throughput charts, the files, the rejects with their lines, and escaping.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';
import { pricePaidCsv, ukPriceTableSql } from '../src/gen/pricePaid.js';

const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const shotPath = (name: string) => fileURLToPath(new URL(`../.tap/${name}`, import.meta.url));

let browser: Browser | undefined;
async function openBrowser(): Promise<Browser> {
  browser ??= await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  return browser;
}
t.teardown(async () => {
  await browser?.close();
});

if (!existsSync(chromiumPath)) {
  t.fail(`${chromiumPath} is missing: apt-get install -y chromium (.ci/run does)`);
}

const xss = '<script>window.__xss=1</script>';

t.test('a 200,000-row load with three bad lines: the list shows its rows, the job page its stages, throughput, file and rejects by line', async (t) => {
  const h = await createHarness({ progressIntervalMs: 50 });
  t.teardown(() => h.close());
  const rows = 200_000;
  const lines = pricePaidCsv(rows, 11).toString('utf8').split('\n');
  const bad = { uuid: 1234, date: 98_765, script: 150_000 };
  lines[bad.uuid - 1] = lines[bad.uuid - 1]!.replace(/^"[^"]*"/, '"not-a-uuid"');
  lines[bad.date - 1] = lines[bad.date - 1]!.replace(/"\d{4}-\d\d-\d\d 00:00"/, '"2020-13-45 00:00"');
  lines[bad.script - 1] = lines[bad.script - 1]!.replace(/^"[^"]*"/, `"${xss}"`);
  const url = await h.put('price-paid/pp-ui.csv', lines.join('\n'));
  await h.db.query(ukPriceTableSql(`${h.schema}.uk_price`));
  const svc = await h.start();

  const res = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.uk_price` }, maxErrors: 10 });
  t.equal(res.status, 202, JSON.stringify(res.body));
  const job = await waitForJob(svc.url!, res.body.id, undefined, 120_000);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.rowsLoaded, rows - 3);
  t.equal(job.result.rowsRejected, 3);
  const run = job.runs[0];
  t.ok(run.samples.length >= 3, `the run has ${run.samples.length} progress samples to chart`);

  const b = await openBrowser();
  const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
  t.teardown(() => page.close());

  // The list: the job's row, its rows loaded and its last run's rate.
  const list = await page.goto(`${svc.url}/ui`);
  t.equal(list?.status(), 200);
  const row = page.locator(`#jobs-table tr[data-job-id="${job.id}"]`);
  t.equal(await row.count(), 1, 'the job is in the list');
  t.equal((await row.locator('td.rows').textContent())?.trim(), '199,997');
  t.equal((await row.locator('.badge').textContent())?.trim(), 'succeeded');
  t.equal((await row.locator('td.rate').textContent())?.trim(), run.rowsPerSecond.toLocaleString('en-US'));
  t.equal(await row.locator(`a[href="/ui/jobs/${job.id}"]`).count(), 1, 'the id links to the job page');
  mkdirSync(dirname(shotPath('ui-list.png')), { recursive: true });
  await page.screenshot({ path: shotPath('ui-list.png'), fullPage: true });

  // Follow the link, as a user would.
  await row.locator('td.id a').click();
  await page.waitForURL(`${svc.url}/ui/jobs/${job.id}`);
  t.equal((await page.locator('#job-id').textContent())?.trim(), job.id);
  t.equal(await page.locator('meta[http-equiv="refresh"]').count(), 0, 'a finished job does not reload');
  t.equal((await page.locator('#fact-rows-loaded dd').textContent())?.trim(), '199,997');
  t.equal((await page.locator('#fact-rows-rejected dd').textContent())?.trim(), '3');
  t.equal((await page.locator('#fact-files dd').textContent())?.trim(), '1 / 0');

  // The stage chart: a bar for the run with a COPY segment as wide as its share.
  const copy = page.locator('#stage-chart rect[data-stage="copyMs"]');
  t.equal(await copy.count(), 1, 'one COPY segment (one run)');
  t.equal(Number(await copy.getAttribute('data-ms')), run.timings.copyMs);
  t.ok(Number(await copy.getAttribute('width')) > 100, 'COPY is most of the bar');
  t.equal(await page.locator('#stage-chart rect[data-stage="firstByteMs"]').count(), 0, 'first byte is a note, not a segment');
  t.match(await page.locator('#stage-table tr.first-byte').textContent(), /first byte/);
  for (const stage of ['queueWaitMs', 'commitMs']) t.equal(await page.locator(`#stage-chart rect[data-stage="${stage}"]`).count(), 1, `${stage} segment`);

  // The throughput chart: one line through samples - 1 points.
  const line = page.locator('#throughput-chart polyline');
  t.equal(await line.count(), 1);
  const points = ((await line.getAttribute('points')) ?? '').trim().split(/\s+/);
  t.ok(points.length >= 2, `${points.length} points`);
  t.ok(points.length <= run.samples.length - 1, 'a point per interval between samples');
  t.ok(points.every((p) => /^\d+(\.\d+)?,\d+(\.\d+)?$/.test(p)), 'numeric coordinates');

  // The files table.
  const file = page.locator('#files-table tr[data-key="price-paid/pp-ui.csv"]');
  t.equal(await file.count(), 1);
  t.equal((await file.locator('td.rows').textContent())?.trim(), '199,997');
  t.equal((await file.locator('td.rejected').textContent())?.trim(), '3');
  t.equal((await file.locator('.badge').textContent())?.trim(), 'loaded');

  // The rejects, by their lines in the original file; the script in a record shows as text.
  const rejectLines = await page.locator('#rejects-table td.line').allTextContents();
  t.same(rejectLines.map((s) => Number(s.trim())), [bad.uuid, bad.date, bad.script]);
  const scriptRow = page.locator(`#rejects-table tr[data-line="${bad.script}"]`);
  t.equal((await scriptRow.locator('td.sqlstate').textContent())?.trim(), '22P02');
  t.match(await scriptRow.locator('td.record').textContent(), xss, 'the record is shown as the text it is');
  t.equal(await page.locator('script').count(), 0, 'no script element made it into the page');
  t.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, 'nothing ran');
  t.equal((await page.locator(`#rejects-table tr[data-line="${bad.date}"] td.column`).textContent())?.trim(), 'date_of_transfer');

  await page.screenshot({ path: shotPath('ui-job.png'), fullPage: true });
  const png = readFileSync(shotPath('ui-job.png'));
  t.ok(statSync(shotPath('ui-job.png')).size > 10_000, `screenshot ${png.length} bytes`);
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');

  // The markup itself: the values are escaped, not merely neutralised by the CSP.
  const raw = await (await fetch(`${svc.url}/ui/jobs/${job.id}`)).text();
  t.notOk(raw.includes('<script'), 'no <script anywhere in the HTML');
  t.ok(raw.includes('&lt;script&gt;window.__xss=1&lt;/script&gt;'), 'the record is escaped');
});

t.test('a queued job: its page reloads itself; the list filters by status and pages through the cursor', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.t (a int, b text)`);
  const url = await h.put('small.csv', '1,a\n2,b\n');
  const svc = await h.start('api'); // no worker: the jobs stay queued
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.t` }, maxErrors: i });
    t.equal(res.status, 202);
    ids.push(res.body.id);
  }

  const b = await openBrowser();
  const page = await b.newPage();
  t.teardown(() => page.close());
  await page.goto(`${svc.url}/ui/jobs/${ids[0]}`);
  t.equal(await page.locator('meta[http-equiv="refresh"]').getAttribute('content'), '2', 'reloads every 2 s');
  t.equal((await page.locator('h1 .badge').first().textContent())?.trim(), 'queued');
  t.equal(await page.locator('#no-runs').count(), 1);

  // Only queued jobs under the queued filter, and none of them under succeeded.
  await page.goto(`${svc.url}/ui?status=succeeded`);
  t.equal(await page.locator(`#jobs-table tr[data-job-id="${ids[0]}"]`).count(), 0);
  t.equal(await page.locator('#status-filters a.on').textContent(), 'succeeded');

  // Two to a page, newest first: follow "older" until all three are seen, each once, in order.
  await page.goto(`${svc.url}/ui?status=queued&limit=2`);
  const seen: string[] = [];
  for (let n = 0; n < 50; n++) {
    const rowsHere = await page.locator('#jobs-table tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-job-id'), tr.getAttribute('data-status')]));
    t.ok(rowsHere.length <= 2, 'at most limit rows on a page');
    for (const [id, status] of rowsHere) {
      t.equal(status, 'queued');
      seen.push(id!);
    }
    if (ids.every((id) => seen.includes(id))) break;
    const next = page.locator('#next-page');
    if ((await next.count()) === 0) break;
    await next.click();
    await page.waitForLoadState();
  }
  t.equal(new Set(seen).size, seen.length, 'no job on two pages');
  t.same(seen.filter((id) => ids.includes(id)), [...ids].reverse(), 'all three, newest first');
});

t.test('an unknown job is a 404 page; a bad filter or cursor is a 400 page', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('api');
  const id = randomUUID();

  const b = await openBrowser();
  const page = await b.newPage();
  t.teardown(() => page.close());
  const res = await page.goto(`${svc.url}/ui/jobs/${id}`);
  t.equal(res?.status(), 404);
  t.match(await page.locator('#error-title').textContent(), /404 · Job not found/);
  t.match(await page.locator('#error-message').textContent(), id);

  for (const [path, status] of [
    ['/ui/jobs/not-a-uuid', 404],
    [`/ui/jobs/${encodeURIComponent('<b>x</b>')}`, 404],
    ['/ui/nowhere', 404],
    ['/ui?status=bogus', 400],
    ['/ui?limit=0', 400],
    ['/ui?cursor=nonsense', 400],
  ] as const) {
    const r = await fetch(`${svc.url}${path}`);
    t.equal(r.status, status, path);
    t.match(r.headers.get('content-type'), /^text\/html/, `${path} is a page`);
    const body = await r.text();
    t.notOk(body.includes('<b>x</b>'), `${path}: the id is escaped`);
  }
});

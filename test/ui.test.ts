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
  t.match(await page.locator('#stage-table tr[data-part="firstByteMs"]').textContent(), /first byte/);
  const drawn = (await page.locator('#stage-chart rect[data-stage]').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-ms'))))).reduce((a, b) => a + b, 0);
  t.ok(drawn <= run.timings.totalMs + run.timings.queueWaitMs + 1, `the segments (${drawn} ms) count no time twice (run ${run.timings.totalMs} ms + queue ${run.timings.queueWaitMs} ms)`);
  for (const part of ['scanMs', 'copyWaitMs', 'sourceWaitMs'].filter((k) => typeof run.timings[k] === 'number')) {
    t.equal(await page.locator(`#stage-chart rect[data-part="${part}"][data-of="copyMs"]`).count(), 1, `${part} drawn under COPY, not as a segment`);
    t.equal(await page.locator(`#stage-chart rect[data-stage="${part}"]`).count(), 0);
  }
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

t.test('the html helper escapes text and attributes, and keeps markup it built', async (t) => {
  const { html, escapeHtml } = await import('../src/ui/html.js');
  t.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  const evil = `"><img src=x onerror=alert(1)>`;
  t.equal(html`<td title="${evil}">${evil}</td>`.value, '<td title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</td>');
  t.equal(html`<ul>${['<a>', html`<li>${'<b>'}</li>`]}</ul>`.value, '<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>');
  t.equal(html`${null}${undefined}${false}${0}`.value, '0');
});

t.test('a retried Citus job (rendered from a made-up job): a bar per run, "too short to chart", the shard layout with its skew, a skipped file', async (t) => {
  const { jobPage } = await import('../src/ui/jobPage.js');
  const now = '2026-01-01T00:00:00.000Z';
  const file = { url: 's3://landing/', scheme: 's3', container: 'landing', version: 'e', size: 1000, blankLines: 0, rowsRejected: 0, error: null, loadedByRun: null };
  const failedRun = {
    id: randomUUID(), attempt: 1, worker: 'w1', status: 'failed', startedAt: now, finishedAt: now, rowsLoaded: 0, rowsRejected: 0, bytesRead: 10,
    rowsPerSecond: 0, mbPerSecond: 0, timings: { queueWaitMs: 5, headMs: 3, connectMs: 1, copyMs: 40, totalMs: 50 }, shardLayout: null,
    error: { code: 'CONNECTION_LOST', message: 'the connection <ended>' }, samples: [[100, 10, 10]],
    files: [{ ...file, key: 'a.csv', status: 'failed', rowsLoaded: 0, bytesRead: 10, timings: {}, error: { code: 'CONNECTION_LOST', message: 'lost' } }],
  };
  const okRun = {
    ...failedRun, id: randomUUID(), attempt: 2, worker: 'w2', status: 'succeeded', rowsLoaded: 3000, bytesRead: 3000, rowsPerSecond: 3000, mbPerSecond: 0.003, error: null,
    timings: {
      queueWaitMs: 200, markerWaitMs: 12, headMs: 15, targetMs: 30, connectMs: 1, prepareMs: 2, ledgerMs: 1, firstByteMs: 4, copyMs: 700,
      scanMs: 100, copyWaitMs: 500, sourceWaitMs: 100, commitMs: 5, layoutMs: 9, futureMs: 77, totalMs: 760,
    },
    samples: [[0, 0, 0], [250, 1000, 1000], [500, 2000, 2000], [750, 3000, 3000]],
    shardLayout: {
      type: 'distributed', distributionColumn: 'id', shardCount: 4, colocationId: 7, largestShardBytes: 2000, smallestShardBytes: 1000, skew: 2,
      nodes: [{ node: 'w1:9701', shards: 2, bytes: 3000 }, { node: 'w2:9702', shards: 2, bytes: 3000 }],
    },
    files: [
      { ...file, key: 'a.csv', status: 'loaded', rowsLoaded: 3000, bytesRead: 3000, timings: { copyMs: 700 } },
      { ...file, key: 'b.csv', status: 'skipped', rowsLoaded: 0, bytesRead: 0, timings: {}, loadedByRun: '11111111-2222-3333-4444-555555555555' },
    ],
  };
  const job = {
    id: randomUUID(), status: 'succeeded', target: 'public.uk_price', sourceUrl: 's3://landing/', spec: { maxErrors: 0 }, attempts: 2, cancelRequested: false,
    progress: { bytesRead: 3000, bytesTotal: 4000, rowsLoaded: 3000 }, error: null, createdAt: now, updatedAt: now, startedAt: now, finishedAt: now,
    result: { rowsLoaded: 3000, rowsRejected: 0, blankLines: 2, bytesRead: 3000, filesLoaded: 1, filesSkipped: 1, skipped: [{ url: 's3://landing/b.csv', jobId: 'aaaaaaaa-2222-3333-4444-555555555555', runId: '11111111-2222-3333-4444-555555555555' }] },
    runs: [failedRun, okRun],
  };
  const markup = jobPage({ job: job as any, rejects: [], rejectsTotal: 0, refreshSeconds: 2 }).value;

  const b = await openBrowser();
  const page = await b.newPage({ viewport: { width: 1100, height: 900 } });
  t.teardown(() => page.close());
  await page.setContent(markup);
  t.same(await page.locator('#stage-chart g.run-bar').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-run'))), ['1', '2'], 'a bar per run');
  t.equal(await page.locator('#stage-chart rect[data-stage="copyMs"]').count(), 2);
  const order = await page.locator('#stage-chart g.run-bar[data-run="2"] rect[data-stage]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-stage')));
  t.same(order, ['queueWaitMs', 'headMs', 'targetMs', 'connectMs', 'prepareMs', 'ledgerMs', 'copyMs', 'commitMs', 'layoutMs'], 'segments in stage order, parts not among them');
  const strip = await page.locator('#stage-chart g.run-bar[data-run="2"] rect[data-of="copyMs"]').evaluateAll((rs) => rs.map((r) => [r.getAttribute('data-part'), Number(r.getAttribute('width'))] as const));
  t.same(strip.map(([k]) => k), ['scanMs', 'copyWaitMs', 'sourceWaitMs'], 'what COPY was made of, drawn under it');
  const copyWidth = Number(await page.locator('#stage-chart rect[data-stage="copyMs"][data-run="2"]').getAttribute('width'));
  t.ok(Math.abs(strip.reduce((a, [, w]) => a + w, 0) - copyWidth) < 0.1, 'the strip spans the COPY segment');
  t.equal(await page.locator('#stage-chart rect[data-part="markerWaitMs"][data-of="headMs"]').count(), 1, 'the marker wait is part of HEAD / list');
  t.equal(await page.locator('#stage-chart [data-stage="futureMs"], #stage-chart [data-part="futureMs"]').count(), 0, 'a timing this page does not know is not drawn');
  t.match(await page.locator('#stage-table tr[data-other="futureMs"]').textContent(), /77\.0 ms/, 'but it is listed');
  t.match(await page.locator('.run-bar[data-run="2"]').textContent(), /Σ 963\.0 ms/, 'Σ adds the segments only');
  t.match(await page.locator('.too-short[data-run="1"]').textContent(), /too short to chart/);
  t.equal(await page.locator('#throughput-chart polyline[data-run="2"]').getAttribute('data-points'), '3');
  t.match(await page.locator('#skew').textContent(), /2\.000/);
  t.same(await page.locator('#shard-nodes tr[data-node] td:first-child').allTextContents(), ['w1:9701', 'w2:9702']);
  t.match(await page.locator('#files-table tr[data-key="b.csv"] td.loaded-by').textContent(), /run 11111111 of job aaaaaaaa/);
  t.equal(await page.locator('#files-table tr[data-key="b.csv"] td.loaded-by a').getAttribute('href'), '/ui/jobs/aaaaaaaa-2222-3333-4444-555555555555');
  t.match(await page.locator('#runs-table tr[data-run="1"]').textContent(), /CONNECTION_LOST the connection <ended>/);
  t.equal((await page.locator('#fact-blank-lines dd').textContent())?.trim(), '2');
  t.equal(await page.locator('#no-rejects').count(), 1);
  await page.screenshot({ path: shotPath('ui-retried-citus.png'), fullPage: true });
});

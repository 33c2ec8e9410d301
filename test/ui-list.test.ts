// The job list as a person sees it in a 1280-pixel window (Debian's headless Chromium through
// playwright-core), rendered from made-up jobs: long source URLs and table names wrap instead of pushing
// the table sideways, and a table operation's row says what it did instead of rows and rows/s.
import t from 'tap';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';
import { jobListPage } from '../src/ui/jobList.js';
import type { Job, Run } from '../src/sql/jobRows.js';

const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
if (!existsSync(chromiumPath)) t.fail(`${chromiumPath} is missing: apt-get install -y chromium (.ci/run does)`);

const now = '2026-03-01T10:00:00.000Z';

/** A job; `spec` holds only what the list reads (a made-up job, not a stored one). */
function job(over: Omit<Partial<Job>, 'spec'> & { spec: object }): Job {
  return {
    id: randomUUID(), status: 'succeeded', target: '"public"."uk_price"', sourceUrl: 's3://landing/a.csv', schedule: null, attempts: 1, cancelRequested: false,
    progress: { bytesRead: 0, bytesTotal: null, rowsLoaded: 0, listing: null, objectsListed: null },
    error: null, result: null, createdAt: now, updatedAt: now, startedAt: now, finishedAt: now,
    ...over,
    spec: over.spec as Job['spec'],
  };
}

function run(over: Partial<Run>): Run {
  return {
    id: randomUUID(), attempt: 1, worker: 'w1', status: 'succeeded', startedAt: now, finishedAt: now, rowsLoaded: 0, rowsRejected: 0, bytesRead: 0,
    rowsPerSecond: null, mbPerSecond: null, timings: { totalMs: 60_000 }, error: null, shardLayout: null, entryNodes: null, entryChoice: null, samples: [], files: [], fileCount: 0,
    ...over,
  };
}

t.test('a 1280-pixel window shows the whole job list; a rebalance says shards and bytes moved, an analyze that it analyzed', async (t) => {
  const longKey = 'exports/land-registry/price-paid/complete/year=2023/month=04/run-2023-05-02T03-15-00Z/part-00000-5f3c1e7a-9b2d-4c61-8e0f-2a7b3c4d5e6f-c000.csv.gz';
  const load = job({
    target: '"analytics_landing_zone"."uk_price_paid_transactions_complete_history"',
    sourceUrl: `s3://data-platform-landing-eu-west-1-production/${longKey}`,
    progress: { bytesRead: 4_300_000_000, bytesTotal: 4_300_000_000, rowsLoaded: 28_276_228, listing: 'complete', objectsListed: 1 },
    spec: { source: { url: 's3://x/' } },
  });
  const rebalance = job({
    target: '"public"."uk_price"', sourceUrl: 'rebalance:"public"."uk_price"',
    progress: { bytesRead: 1_234_000_000, bytesTotal: null, rowsLoaded: 60, listing: null, objectsListed: null },
    spec: { source: { url: '' }, tableOperation: { kind: 'rebalance' } },
  });
  const analyze = job({ sourceUrl: 'analyze:"public"."uk_price"', spec: { source: { url: '' }, tableOperation: { kind: 'analyze' } } });
  const lastRuns = new Map<string, Run>([
    [load.id, run({ rowsLoaded: 28_276_228, rowsPerSecond: 7878, timings: { totalMs: 3_589_000 } })],
    [rebalance.id, run({ rowsLoaded: 60, bytesRead: 1_234_000_000, rowsPerSecond: 1, timings: { totalMs: 283_000 } })],
    [analyze.id, run({ timings: { totalMs: 800 } })],
  ]);
  const page = jobListPage({ jobs: [load, rebalance, analyze], lastRuns, limit: 50, paged: false, defaultLimit: 50 }).value;

  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  t.teardown(() => browser.close());
  const tab = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await tab.setContent(page);
  const widths = await tab.evaluate(() => {
    const box = document.querySelector('.scroll') as HTMLElement;
    return { page: document.documentElement.scrollWidth, window: window.innerWidth, table: box.scrollWidth, box: box.clientWidth };
  });
  t.ok(widths.page <= widths.window, `the page is no wider than the window (${widths.page} <= ${widths.window})`);
  t.ok(widths.table <= widths.box, `the table needs no sideways scroll (${widths.table} <= ${widths.box})`);

  const cells = (id: string) => tab.evaluate((id) => {
    const row = document.querySelector(`tr[data-job-id="${id}"]`)!;
    return { did: row.querySelector('td.rows')!.textContent!.trim(), rate: row.querySelector('td.rate')!.textContent!.trim() };
  }, id);
  t.same(await cells(rebalance.id), { did: '60 shards moved, 1.2 GB', rate: '–' });
  t.same(await cells(analyze.id), { did: 'analyzed', rate: '–' });
  t.same(await cells(load.id), { did: '28,276,228', rate: '7,878' });
});

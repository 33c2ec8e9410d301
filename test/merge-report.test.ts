// How a merge job and a rebalance job read in the CLI report and on the job page (pure rendering).
import t from 'tap';
import { jobPage } from '../src/ui/jobPage.js';
import { outcome } from '../src/cli/report.js';

const now = new Date().toISOString();
const file = (key: string, merge: Record<string, number>) => ({
  url: `s3://b/${key}`, scheme: 's3', container: 'b', key, version: 'e', size: 1, status: 'loaded', rowsLoaded: 9, rowsRejected: 0, blankLines: 0, bytesRead: 1, loadedByRun: null, timings: {}, error: null, merge,
});
const jan = { inserted: 70, updated: 25, deleted: 4, deleteMissing: 1, rejected: 0 };
const feb = { inserted: 7, updated: 2, deleted: 3, deleteMissing: 0, rejected: 2 };
const total = { inserted: 77, updated: 27, deleted: 7, deleteMissing: 1, rejected: 2 };
const job: any = {
  id: '00000000-0000-4000-8000-000000000001', status: 'succeeded', target: '"public"."uk_price"', sourceUrl: 's3://b/pp/monthly/',
  spec: { mode: 'merge', maxErrors: 2 }, schedule: null, attempts: 1, cancelRequested: false, progress: { bytesRead: 1, bytesTotal: 1, rowsLoaded: 1 },
  error: null, result: { rowsLoaded: 109, merge: total }, createdAt: now, updatedAt: now, startedAt: now, finishedAt: now,
  runs: [{
    id: 'r', attempt: 1, worker: 'w', status: 'succeeded', startedAt: now, finishedAt: now, rowsLoaded: 109, rowsRejected: 2, bytesRead: 1, rowsPerSecond: 1,
    mbPerSecond: 1, timings: { mergeMs: 5, totalMs: 10 }, error: null, shardLayout: null, samples: [],
    files: [file('pp/monthly/pp-2025-01.csv', jan), file('pp/monthly/pp-2025-02.csv', feb)],
  }],
};

t.test('the CLI prints each merged file and the total', async (t) => {
  const out = outcome(job).out;
  t.match(out, /\| pp\/monthly\/pp-2025-01\.csv \|\s+70 \|\s+25 \|\s+4 \|\s+1 \|\s+0 \|/);
  t.match(out, /\| pp\/monthly\/pp-2025-02\.csv \|\s+7 \|\s+2 \|\s+3 \|\s+0 \|\s+2 \|/);
  t.match(out, /\| total\s+\|\s+77 \|\s+27 \|\s+7 \|\s+1 \|\s+2 \|/);
  t.match(out, /merge \(in file transactions\)/, 'the timing table has the merge stage');
});

t.test('the job page has a merge table with a row per file and the total', async (t) => {
  const page = String(jobPage({ job, rejects: [], rejectsTotal: 0, refreshSeconds: 2 }));
  t.match(page, /id="merge-table"/);
  t.equal((page.match(/<tr data-key="pp\/monthly\/pp-2025-0\d\.csv"><td>1<\/td>/g) ?? []).length, 2);
  t.match(page, /id="merge-total".*?<td class="num inserted">77<\/td><td class="num updated">27<\/td><td class="num deleted">7<\/td>/s);
  const append = String(jobPage({ job: { ...job, spec: { maxErrors: 0 } }, rejects: [], rejectsTotal: 0, refreshSeconds: 2 }));
  t.notMatch(append, /merge-table/, 'no merge section for another mode');
});

t.test('a rebalance job reads as moves, bytes and skew, not rows loaded', async (t) => {
  const reb = { ...job, spec: { maxErrors: 0 }, result: { operation: 'rebalance', table: '"public"."uk_price"', movesDone: 10, movesPlanned: 10, bytesMoved: 1728512, layoutBefore: { skew: 1.25 }, layoutAfter: { skew: 1.1 } } };
  t.match(outcome(reb).out, /rebalanced "public"\."uk_price": 10 of 10 shard moves, 1,728,512 bytes moved, skew 1\.250 -> 1\.100/);
});

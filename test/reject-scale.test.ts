// Many bad records under a budget that allows them: every bad one rejected with its line, every good one
// loaded, and the loading transaction's lock table does not grow with the rejects (each savepoint is
// released or reused, none left open per reject).
import t from 'tap';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';

t.test('10,000 records with 1,000 bad ones (type errors with a line, foreign keys without): 1,000 rejects, 9,000 rows, flat locks', { timeout: 900_000 }, async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const codes = `${h.schema}.codes`;
  const table = `${h.schema}.many`;
  await h.db.query(`CREATE TABLE ${codes} (code int PRIMARY KEY)`);
  await h.db.query(`INSERT INTO ${codes} VALUES (1), (2), (3)`);
  await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int, r int REFERENCES ${codes} (code))`);
  const total = 10_000;
  const badLines: number[] = [];
  let goodSum = 0;
  const lines = Array.from({ length: total }, (_, i) => {
    const line = i + 1;
    if (line % 10 !== 0) {
      goodSum += line;
      return `${line},${line},${1 + (line % 3)}`;
    }
    badLines.push(line);
    // Alternately a value COPY cannot read (the error names its line) and a missing foreign key
    // (checked after the last line: the error names none, the record is searched for).
    return line % 20 === 0 ? `${line},not-a-number,1` : `${line},${line},9`;
  });
  const url = await h.put('many.csv', lines.join('\n') + '\n');
  const svc = await h.start();
  const res = await postJob(svc.url!, { source: { url }, target: { table }, maxErrors: 2000 });
  t.equal(res.status, 202, JSON.stringify(res.body));

  // While it loads: the most transaction-id locks held by the backend loading into the table.
  let maxXidLocks = 0;
  let samples = 0;
  let loading = true;
  const watch = (async () => {
    while (loading) {
      const { rows } = await h.db.query(
        `SELECT count(*)::int AS n FROM pg_locks l
          WHERE l.locktype = 'transactionid'
            AND l.pid IN (SELECT pid FROM pg_locks WHERE locktype = 'relation' AND relation = $1::regclass AND pid <> pg_backend_pid())
          GROUP BY l.pid`,
        [table],
      );
      for (const r of rows) maxXidLocks = Math.max(maxXidLocks, r.n);
      if (rows.length) samples++;
      // Often: through the stage the whole load takes about a second.
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const job = await waitForJob(svc.url!, res.body.id, undefined, 600_000);
  loading = false;
  await watch;
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.rowsRejected, 1000);

  const got: { line: number; sqlstate: string }[] = [];
  let cursor: string | null = null;
  do {
    const page = (await (await fetch(`${svc.url}/jobs/${res.body.id}/rejects?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)).json()) as any;
    got.push(...page.rejects);
    cursor = page.nextCursor;
  } while (cursor);
  t.same(got.map((r) => r.line), badLines, 'every tenth line, in order, once');
  t.same(
    got.map((r) => r.sqlstate),
    badLines.map((l) => (l % 20 === 0 ? '22P02' : '23503')),
  );
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, sum(v)::bigint AS s FROM ${table}`);
  t.same(rows[0], { n: 9_000, s: String(goodSum) });
  t.ok(samples > 0, `the load was watched (${samples} samples)`);
  t.ok(maxXidLocks <= 4, `transaction-id locks held while loading stayed flat (at most ${maxXidLocks}; one per reject before)`);
});

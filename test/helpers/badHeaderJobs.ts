// Two jobs: a CSV whose header names a column the table lacks (columns: "header"), then a good one,
// on one service.
import { createHarness, postJob, waitForJob } from './harness.js';

export interface BadHeaderOutcome {
  bad: { status: string; attempts: number; code: string | undefined; message: string | undefined };
  good: { status: string; rowsLoaded: number };
  rows: number;
}

export async function badHeaderThenGood(): Promise<BadHeaderOutcome> {
  const h = await createHarness();
  try {
    await h.db.query(`CREATE TABLE ${h.schema}.p (id int, town text)`);
    const svc = await h.start();
    const spec = (url: string) => ({ source: { url }, format: { header: true }, target: { table: `${h.schema}.p`, columns: 'header' } });
    const bad = await postJob(svc.url!, spec(await h.put('bad.csv', 'id,county\n1,X\n')));
    const badJob = await waitForJob(svc.url!, bad.body.id, undefined, 30_000);
    const good = await postJob(svc.url!, spec(await h.put('good.csv', 'town,id\nYORK,2\nLEEDS,3\n')));
    const goodJob = await waitForJob(svc.url!, good.body.id, undefined, 30_000);
    const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.p`);
    return {
      bad: { status: badJob.status, attempts: badJob.attempts, code: badJob.error?.code, message: badJob.error?.message },
      good: { status: goodJob.status, rowsLoaded: goodJob.result?.rowsLoaded },
      rows: rows[0].n,
    };
  } finally {
    await h.close();
  }
}

// A load PostgreSQL refuses with SQLSTATE 55000 (object_not_in_prerequisite_state) is tried again. Citus
// raises it while a restarted worker's metadata is out of sync ("127.0.0.1:9823 is a metadata node, but
// is out of sync"), for the seconds until its maintenance daemon syncs it; the soak (--ha, seed 4103) saw
// three jobs fail DATABASE_ERROR for good that way after a worker group's restart. Here a trigger on the
// target raises it once, at the COPY (atomicity file) or at the publish (atomicity job).
import t from 'tap';
import { createHarness, postJob, waitForJob } from './helpers/harness.js';

for (const atomicity of ['file', 'job'] as const) {
  t.test(`a ${atomicity}-atomicity load refused once with SQLSTATE 55000 is retried and loads every row once`, async (t) => {
    const h = await createHarness();
    t.teardown(() => h.close());
    const lines = Array.from({ length: 2000 }, (_, i) => `${i + 1},"row ${i + 1}"`);
    const url = await h.put('p.csv', `${lines.join('\n')}\n`);
    await h.db.query(`
      CREATE TABLE ${h.schema}.p (a int, b text);
      CREATE SEQUENCE ${h.schema}.refusals;
      CREATE FUNCTION ${h.schema}.refuse_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- nextval is not rolled back with the refused statement: only the first one is refused.
        IF nextval('${h.schema}.refusals') = 1 THEN
          RAISE EXCEPTION '127.0.0.1:9823 is a metadata node, but is out of sync' USING ERRCODE = '55000';
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER refuse_once BEFORE INSERT ON ${h.schema}.p FOR EACH STATEMENT EXECUTE FUNCTION ${h.schema}.refuse_once();
    `);
    const svc = await h.start();
    const job = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.p` }, atomicity })).body.id);
    t.equal(job.status, 'succeeded', JSON.stringify(job.error));
    t.equal(job.runs.length, 2, 'the refused attempt, then the one that loaded');
    t.equal(job.runs[0].status, 'failed');
    t.equal(job.runs[0].error?.details?.sqlstate, '55000', JSON.stringify(job.runs[0].error));
    const rows = await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT a)::int AS d, sum(a)::int AS s FROM ${h.schema}.p`);
    t.same(rows.rows[0], { n: 2000, d: 2000, s: (2000 * 2001) / 2 });
  });
}

t.test('SQLSTATE 55000 with any other message (a permanent state) fails the job at its first attempt', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const url = await h.put('p.csv', '1,"one"\n2,"two"\n');
  await h.db.query(`
    CREATE TABLE ${h.schema}.p (a int, b text);
    CREATE FUNCTION ${h.schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the table is not ready' USING ERRCODE = '55000';
    END $$;
    CREATE TRIGGER refuse BEFORE INSERT ON ${h.schema}.p FOR EACH STATEMENT EXECUTE FUNCTION ${h.schema}.refuse();
  `);
  const svc = await h.start();
  const job = await waitForJob(svc.url!, (await postJob(svc.url!, { source: { url }, target: { table: `${h.schema}.p` } })).body.id);
  t.equal(job.status, 'failed');
  t.equal(job.runs.length, 1, 'no retry');
  t.equal(job.error?.details?.sqlstate, '55000', JSON.stringify(job.error));
  const rows = await h.db.query(`SELECT count(*)::int AS n FROM ${h.schema}.p`);
  t.equal(rows.rows[0].n, 0);
});

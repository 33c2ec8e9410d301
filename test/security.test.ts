// What a hostile spec must not get through: keys that climb out of an allowed bucket, and targets that
// are the service's own tables or the system's.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createBucket, createHarness, postJob, waitForJob } from './helpers/harness.js';
import { createSources } from '../src/sources/registry.js';
import { resolveSources } from '../src/sources/resolveSources.js';
import { IngestError } from '../src/errors.js';
import { loadConfig } from '../src/config.js';
import { createQueue, enqueueLoad } from '../src/queue/queue.js';

t.test('dot segments in a key are refused with 400 naming the field, and nothing from another bucket loads', async (t) => {
  const h = await createHarness({ s3AllowedBuckets: ['allowed'] });
  t.teardown(() => h.close());
  await createBucket(h.s3Client, 'allowed');
  await createBucket(h.s3Client, 'secret');
  await h.s3Client.send(new PutObjectCommand({ Bucket: 'secret', Key: 'data/a.csv', Body: '1,secret\n2,secret\n' }));
  await h.s3Client.send(new PutObjectCommand({ Bucket: 'allowed', Key: 'data/a.csv', Body: '10,allowed\n' }));
  await h.s3Client.send(new PutObjectCommand({ Bucket: 'allowed', Key: 'dir/_SUCCESS', Body: '' }));
  await h.db.query(`CREATE TABLE ${h.schema}.t (id int, note text)`);
  const svc = await h.start();
  const target = { table: `${h.schema}.t` };

  const evil: Array<[string, Record<string, unknown>, string]> = [
    ['..', { url: 's3://allowed/../secret/data/a.csv' }, '/source/url'],
    ['.. deeper', { url: 's3://allowed/data/../../secret/data/a.csv' }, '/source/url'],
    ['.', { url: 's3://allowed/./data/a.csv' }, '/source/url'],
    ['%2e%2e', { url: 's3://allowed/%2e%2e/secret/data/a.csv' }, '/source/url'],
    ['mixed case %2E%2e', { url: 's3://allowed/%2E%2e/secret/data/a.csv' }, '/source/url'],
    ['half encoded .%2E', { url: 's3://allowed/.%2E/secret/data/a.csv' }, '/source/url'],
    ['double encoded %252e%252e', { url: 's3://allowed/%252e%252e/secret/data/a.csv' }, '/source/url'],
    ['encoded slash %2f..%2f', { url: 's3://allowed/data%2f..%2f..%2fsecret/data/a.csv' }, '/source/url'],
    ['backslash', { url: 's3://allowed/data\\..\\..\\secret/data/a.csv' }, '/source/url'],
    ['a prefix', { url: 's3://allowed/../secret/data/' }, '/source/url'],
    ['a marker', { url: 's3://allowed/dir/', waitForMarker: '..' }, '/source/waitForMarker'],
  ];
  for (const [name, source, field] of evil) {
    const res = await postJob(svc.url!, { source, target });
    t.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
    t.equal(res.body.error?.code, 'INVALID_SPEC', `${name}: code`);
    t.equal(res.body.error?.details?.field, field, `${name}: field`);
    t.match(res.body.error?.details?.reason, /segment/, `${name}: reason`);
  }
  const stored = await h.db.query(`SELECT count(*)::int AS n FROM ingest.jobs WHERE target = $1`, [`"${h.schema}"."t"`]);
  t.equal(stored.rows[0].n, 0, 'no job was stored');

  // The worker refuses such a URL too (a job stored before this check, or written to the table by hand).
  const sources = createSources({ ...h.config, s3AllowedBuckets: ['allowed'] });
  const refused = await resolveSources(sources, { url: 's3://allowed/../secret/data/a.csv' }, new AbortController().signal, {}).catch((e) => e);
  await sources.close();
  t.ok(refused instanceof IngestError, 'resolveSources refuses');
  t.equal(refused.code, 'INVALID_SPEC');

  // Names that only look like dots are keys like any other; the allowed bucket still loads.
  const ok = await postJob(svc.url!, { source: { url: 's3://allowed/data/a.csv' }, target });
  t.equal(ok.status, 202, JSON.stringify(ok.body));
  const job = await waitForJob(svc.url!, ok.body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const rows = await h.db.query(`SELECT id, note FROM ${h.schema}.t ORDER BY id`);
  t.same(rows.rows, [{ id: 10, note: 'allowed' }], 'only the allowed object loaded; nothing from bucket secret');
  const ledger = await h.db.query(`SELECT scheme, container, key FROM ingest.file_ledger WHERE target = $1`, [`"${h.schema}"."t"`]);
  t.same(ledger.rows, [{ scheme: 's3', container: 'allowed', key: 'data/a.csv' }]);
});

t.test('the service\'s own tables and system schemas are refused as targets; no ledger row is forged', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.victim (id int, note text)`);
  const victim = `"${h.schema}"."victim"`;
  const realUrl = await h.put('real.csv', '1,real\n');
  const head = await h.s3Client.send(new HeadObjectCommand({ Bucket: 'landing', Key: 'real.csv' }));
  // Loaded into ingest.file_ledger, this file would say landing/real.csv is already in the victim table.
  const forged = `"${victim.replace(/"/g, '""')}",s3,landing,real.csv,${head.ETag!.replace(/"/g, '')},${head.ContentLength},00000000-0000-4000-8000-000000000001,00000000-0000-4000-8000-000000000002,0,2026-01-01\n`;
  const forgeUrl = await h.put('forge.csv', forged);
  const svc = await h.start();
  const names = [
    'ingest.file_ledger', 'INGEST.FILE_LEDGER', '"ingest"."file_ledger"', 'ingest.chunk_ledger', 'ingest_stage.anything', 'pg_catalog.pg_class',
    'information_schema.tables', 'pg_toast.x', 'pg_temp.x', 'citus.x', 'citus_internal.x', 'columnar.x', 'columnar_internal.x',
  ];
  for (const table of names) {
    const res = await postJob(svc.url!, { source: { url: forgeUrl }, target: { table, columns: ['target', 'scheme', 'container', 'key', 'version', 'size', 'job_id', 'run_id', 'rows_loaded', 'loaded_at'] } });
    t.equal(res.status, 400, `${table}: ${JSON.stringify(res.body)}`);
    t.equal(res.body.error?.code, 'TARGET_FORBIDDEN', `${table}: code`);
    t.equal(res.body.error?.details?.field, '/target/table', `${table}: field`);
  }

  // A job that reached the queue without the API's check (stored before it, or by hand) is refused by
  // the worker on the schema the catalog resolves.
  const id = randomUUID();
  const spec = { source: { url: forgeUrl }, format: { header: false, delimiter: ',', quote: '"', escape: '"', null: '', encoding: 'UTF8' }, target: { table: 'ingest.file_ledger' }, maxErrors: 0, dryRun: false };
  await h.db.query(
    `INSERT INTO ingest.jobs (id, spec, target, source_url, queue, spec_hash) VALUES ($1, $2, '"ingest"."file_ledger"', $3, $4, 'x')`,
    [id, JSON.stringify(spec), forgeUrl, h.config.queueName],
  );
  const queue = createQueue(h.config);
  await enqueueLoad(queue, id);
  await queue.close();
  const refused = await waitForJob(svc.url!, id);
  t.equal(refused.status, 'failed');
  t.equal(refused.error?.code, 'TARGET_FORBIDDEN');
  const rows = await h.db.query('SELECT count(*)::int AS n FROM ingest.file_ledger WHERE target = $1', [victim]);
  t.equal(rows.rows[0].n, 0, 'no ledger row was forged for the victim table');

  // So the real file still loads.
  const res = await postJob(svc.url!, { source: { url: realUrl }, target: { table: `${h.schema}.victim` } });
  const job = await waitForJob(svc.url!, res.body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  t.equal(job.result.filesLoaded, 1);
  t.same((await h.db.query(`SELECT id, note FROM ${h.schema}.victim`)).rows, [{ id: 1, note: 'real' }]);
});

t.test('TARGET_ALLOWED_SCHEMAS admits only the schemas it names', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  await h.db.query(`CREATE TABLE ${h.schema}.t (id int)`);
  const url = await h.put('one.csv', '1\n');
  const narrow = await h.start('api', { targetAllowedSchemas: ['sales'] });
  const refused = await postJob(narrow.url!, { source: { url }, target: { table: `${h.schema}.t` } });
  t.equal(refused.status, 400);
  t.equal(refused.body.error?.code, 'TARGET_FORBIDDEN');
  t.match(refused.body.error?.details?.reason, /TARGET_ALLOWED_SCHEMAS/);
  const wide = await h.start('api', { targetAllowedSchemas: ['sales', h.schema] });
  const accepted = await postJob(wide.url!, { source: { url }, target: { table: `${h.schema}.t` } });
  t.equal(accepted.status, 202, JSON.stringify(accepted.body));
  t.throws(() => loadConfig({ TARGET_ALLOWED_SCHEMAS: 'sales, ingest' }), { name: 'ConfigError', message: /TARGET_ALLOWED_SCHEMAS names "ingest"/ });
  t.same(loadConfig({ TARGET_ALLOWED_SCHEMAS: 'sales, Marketing' }).targetAllowedSchemas, ['sales', 'Marketing']);
});

// What a hostile spec must not get through: keys that climb out of an allowed bucket, and targets that
// are the service's own tables or the system's.
import t from 'tap';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createBucket, createHarness, postJob, waitForJob } from './helpers/harness.js';
import { resolveSources } from '../src/sources/resolveSources.js';
import { IngestError } from '../src/errors.js';

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
  const refused = await resolveSources(h.s3Client, { url: 's3://allowed/../secret/data/a.csv' }, new AbortController().signal, { allowedBuckets: ['allowed'] }).catch((e) => e);
  t.ok(refused instanceof IngestError, 'resolveSources refuses');
  t.equal(refused.code, 'INVALID_SPEC');

  // Names that only look like dots are keys like any other; the allowed bucket still loads.
  const ok = await postJob(svc.url!, { source: { url: 's3://allowed/data/a.csv' }, target });
  t.equal(ok.status, 202, JSON.stringify(ok.body));
  const job = await waitForJob(svc.url!, ok.body.id);
  t.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const rows = await h.db.query(`SELECT id, note FROM ${h.schema}.t ORDER BY id`);
  t.same(rows.rows, [{ id: 10, note: 'allowed' }], 'only the allowed object loaded; nothing from bucket secret');
  const ledger = await h.db.query(`SELECT bucket, key FROM ingest.file_ledger WHERE target = $1`, [`"${h.schema}"."t"`]);
  t.same(ledger.rows, [{ bucket: 'allowed', key: 'data/a.csv' }]);
});

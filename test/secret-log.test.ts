// Issue #30 item 1: the start-up line logs the whole configuration, the sources' nested settings
// included, and no credential of any scheme may appear in it.
import t from 'tap';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/service.js';
import { createHarness } from './helpers/harness.js';

const gcsSecret = 'gcs-hmac-secret-9f8e7d6c5b4a39281706';
const gcsAccessId = 'GOOG1EXAMPLEACCESSID4711';
const accountKey = 'YWNjb3VudC1rZXktdGhhdC1tdXN0LW5vdC1sZWFrLTQ3MTE=';
const sharedKey = 'c2hhcmVkLWtleS10aGF0LW11c3Qtbm90LWxlYWstNDcxMQ==';

/** Starts the API with `env` on top of the harness's settings and returns everything it logged. */
async function startupLog(env: Record<string, string>): Promise<string> {
  const h = await createHarness();
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const config = { ...h.config, sources: loadConfig(env).sources };
  const svc = await startService({ role: 'api', config, log: createLogger('info', sink) });
  await svc.stop();
  await h.close();
  return out;
}

t.test('GCS HMAC secret and an Azure connection string stay out of the start-up line', async (t) => {
  const out = await startupLog({
    GCS_HMAC_ACCESS_ID: gcsAccessId,
    GCS_HMAC_SECRET: gcsSecret,
    AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${accountKey};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;`,
  });
  t.match(out, /"msg":"starting"/, 'the configuration was logged');
  t.match(out, /"gcs":\{[^}]*"endpoint":"https:\/\/storage\.googleapis\.com\/?"/, 'what is not secret stays visible');
  for (const secret of [gcsSecret, gcsAccessId, accountKey]) t.notOk(out.includes(secret), `${secret.slice(0, 10)}... is not in the log`);
});

t.test('AZURE_STORAGE_KEY stays out of the start-up line; the account stays visible', async (t) => {
  const out = await startupLog({ AZURE_STORAGE_ACCOUNT: 'devstoreaccount1', AZURE_STORAGE_KEY: sharedKey, AZURE_STORAGE_ENDPOINT: 'http://127.0.0.1:10000/devstoreaccount1' });
  t.match(out, /"account":"devstoreaccount1"/);
  t.notOk(out.includes(sharedKey), 'the shared key is not in the log');
});

import t from 'tap';
import { spawn } from 'node:child_process';
import { ConfigError, loadConfig } from '../src/config.js';

t.test('defaults point at local PostgreSQL and Redis; path style follows the endpoint', async (t) => {
  const c = loadConfig({});
  t.equal(c.databaseUrl, 'postgres://postgres@127.0.0.1:5432/postgres');
  t.equal(c.redisUrl, 'redis://127.0.0.1:6379');
  t.equal(c.s3Endpoint, undefined);
  t.equal(c.s3ForcePathStyle, false);
  t.equal(c.workerConcurrency, 2);
  t.equal(loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000' }).s3ForcePathStyle, true);
  t.equal(loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_FORCE_PATH_STYLE: 'false' }).s3ForcePathStyle, false);
  t.equal(loadConfig({ PORT: '8080', WORKER_CONCURRENCY: '4' }).port, 8080);
});

t.test('a bad variable fails fast with its name', async (t) => {
  t.throws(() => loadConfig({ PORT: 'eighty' }), { name: 'ConfigError', message: /PORT must be integer/ });
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL must match/);
  t.throws(() => loadConfig({ WORKER_CONCURRENCY: '0' }), /WORKER_CONCURRENCY must be >= 1/);
  t.throws(() => loadConfig({ S3_ACCESS_KEY_ID: 'only-half' }), ConfigError);
});

t.test('the service refuses to start on a bad variable and says which', async (t) => {
  const child = spawn('node_modules/.bin/tsx', ['src/entry.ts', 'api'], {
    env: { ...process.env, REDIS_URL: 'http://nope' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise((r) => child.on('close', r));
  t.equal(code, 2);
  t.match(err, /REDIS_URL must match pattern/);
});

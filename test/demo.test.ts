import t from 'tap';
import { spawn } from 'node:child_process';
import { createHarness } from './helpers/harness.js';

t.test('npm run demo loads the sample through the API and prints the timing table', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const table = `${h.schema}.uk_price_demo`;
  const env = { ...process.env, DATABASE_URL: h.config.databaseUrl, REDIS_URL: h.config.redisUrl, QUEUE_NAME: `${h.config.queueName}-demo`, S3_ENDPOINT: '' };
  const run = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('node_modules/.bin/tsx', ['scripts/demo.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
    });

  const first = await run(['--rows', '3000', '--table', table]);
  t.equal(first.code, 0, first.out);
  t.match(first.out, /started an embedded S3 endpoint/);
  t.match(first.out, /job [0-9a-f-]{36} succeeded/);
  t.match(first.out, /\| COPY +\| +[\d.]+ m?s \|/);
  t.match(first.out, /\| rows loaded +\| +3,000 \|/);
  t.match(first.out, /had 0 rows, now 3,000 \(\+3,000\)/);
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  t.equal(rows[0].n, 3000);
  await h.db.query(`DELETE FROM ingest.file_ledger WHERE target = $1`, [`"${h.schema}"."uk_price_demo"`]);
});

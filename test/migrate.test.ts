import t from 'tap';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { migrate, readMigrations } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { testDatabaseUrl } from './helpers/harness.js';

t.test('processes migrating one fresh database at once apply each migration exactly once', async (t) => {
  const name = `ingest_mig_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: testDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  const pools = Array.from({ length: 4 }, () => createPool(url.toString(), { max: 2 }));
  t.teardown(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  });
  const applied = await Promise.all(pools.map((p) => migrate(p)));
  const all = (await readMigrations()).map((m) => m.name);
  t.same(applied.flat().sort(), all.sort(), 'every migration applied by exactly one process');
  const { rows } = await pools[0]!.query('SELECT name FROM ingest.migrations ORDER BY id');
  t.same(rows.map((r) => r.name), all);
  t.same(await migrate(pools[0]!), [], 'a second run applies nothing');
});

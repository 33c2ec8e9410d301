// docker-compose.yml cannot run here (no Docker engine); this keeps it parseable and in step with the
// configuration the code reads.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { loadConfig } from '../src/config.js';

t.test('docker-compose.yml wires Citus, MinIO, Redis, the API and workers with valid configuration', async (t) => {
  const doc = parse(await readFile('docker-compose.yml', 'utf8'), { merge: true });
  const services = doc.services;
  for (const name of ['coordinator', 'worker1', 'worker2', 'citus-init', 'minio', 'minio-init', 'redis', 'api', 'worker']) {
    t.ok(services[name], `service ${name}`);
  }
  t.match(services.coordinator.image, /^citusdata\/citus:/);
  t.match(services['citus-init'].command.join(' '), /citus_add_node/);
  t.match(services.redis.command.join(' '), /--appendonly yes/);
  t.match(services.redis.command.join(' '), /noeviction/);
  t.match(services['minio-init'].command.join(' '), /mc mb/);
  for (const role of ['api', 'worker']) {
    const env = services[role].environment;
    t.doesNotThrow(() => loadConfig(env), `${role}'s environment passes the service's own validation`);
    t.match(services[role].command.join(' '), new RegExp(`entry.js ${role}$`));
  }
  const envExample = await readFile('.env.example', 'utf8');
  for (const key of Object.keys(services.api.environment)) t.match(envExample, new RegExp(`^${key}=`, 'm'), `.env.example lists ${key}`);
});

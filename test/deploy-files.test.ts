// docker-compose.yml and the Kubernetes manifests cannot run here (no Docker engine, no cluster); this
// keeps them parseable and in step with the configuration the code reads.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config.js';
import { WORKER_NODE_FLAGS } from '../src/handbuilt/youngGc.js';

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
  t.same(services.worker.command, ['node', ...WORKER_NODE_FLAGS, 'dist/src/entry.js', 'worker'], 'the worker gets the worker\'s node flags');
  t.same(services.api.command, ['node', 'dist/src/entry.js', 'api'], 'the API gets none');
  const envExample = await readFile('.env.example', 'utf8');
  for (const key of Object.keys(services.api.environment)) t.match(envExample, new RegExp(`^${key}=`, 'm'), `.env.example lists ${key}`);
});

t.test('deploy/k8s: a ConfigMap, a Secret, the API Deployment and Service, the worker Deployment, with valid configuration', async (t) => {
  const dir = 'deploy/k8s';
  const docs: any[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(await readFile(`${dir}/${file}`, 'utf8'))) {
      t.same(doc.errors, [], `${file} parses`);
      const value = doc.toJS();
      t.notOk(value.metadata?.namespace, `${file}: ${value.kind} names no namespace`);
      docs.push(value);
    }
  }
  const one = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
  t.same(docs.map((d) => d.kind).sort(), ['ConfigMap', 'Deployment', 'Deployment', 'Secret', 'Service']);
  const configMap = one('ConfigMap', 'citus-ingest-config');
  const secret = one('Secret', 'citus-ingest-secrets');
  const api = one('Deployment', 'citus-ingest-api');
  const worker = one('Deployment', 'citus-ingest-worker');
  const service = one('Service', 'citus-ingest-api');
  for (const [what, doc] of Object.entries({ configMap, secret, api, worker, service })) t.ok(doc, what);

  // Secrets only in the Secret; the configuration the pods get passes the service's own validation.
  for (const key of ['DATABASE_URL', 'REDIS_URL', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'API_TOKENS']) {
    t.ok(secret.stringData[key], `the Secret holds ${key}`);
    t.notOk(key in configMap.data, `the ConfigMap does not hold ${key}`);
  }
  const env: Record<string, string> = { ...configMap.data, ...secret.stringData };
  const envExample = await readFile('.env.example', 'utf8');
  for (const deployment of [api, worker]) {
    const [container] = deployment.spec.template.spec.containers;
    t.equal(container.image, 'citus-ingest:latest');
    t.same(container.envFrom.map((e: any) => e.configMapRef?.name ?? e.secretRef?.name), ['citus-ingest-config', 'citus-ingest-secrets']);
    for (const e of container.env ?? []) env[e.name] = e.value ?? 'from-a-reference';
    t.match(deployment.spec.template.metadata.labels, deployment.spec.selector.matchLabels, 'the selector matches the pods');
  }
  for (const key of Object.keys(env)) t.match(envExample, new RegExp(`^${key}=`, 'm'), `.env.example lists ${key}`);
  let config: ReturnType<typeof loadConfig> | undefined;
  t.doesNotThrow(() => (config = loadConfig(env)), 'the pods\' environment passes loadConfig()');
  t.equal(config?.host, '0.0.0.0', 'listens on the pod address');
  t.ok(config!.apiTokens.length > 0, 'the API asks for a token');

  const apiContainer = api.spec.template.spec.containers[0];
  t.same(apiContainer.command, ['node', 'dist/src/entry.js', 'api']);
  const httpPort = apiContainer.ports.find((p: any) => p.name === 'http');
  t.equal(httpPort.containerPort, 3000);
  t.equal(Number(configMap.data.PORT), 3000);
  t.equal(apiContainer.readinessProbe.httpGet.path, '/readyz');
  t.equal(apiContainer.livenessProbe.httpGet.path, '/healthz');
  t.equal(service.spec.ports[0].port, 3000);
  t.equal(service.spec.ports[0].targetPort, 'http');
  t.same(service.spec.selector, api.spec.selector.matchLabels, 'the Service selects the API pods only');

  const workerSpec = worker.spec.template.spec;
  const workerContainer = workerSpec.containers[0];
  t.same(workerContainer.command, ['node', ...WORKER_NODE_FLAGS, 'dist/src/entry.js', 'worker'], 'the worker gets the worker\'s node flags');
  t.ok(workerSpec.terminationGracePeriodSeconds * 1000 > config!.shutdownTimeoutMs, 'the grace period outlasts SHUTDOWN_TIMEOUT_MS');
  t.equal(workerContainer.livenessProbe.httpGet.path, '/healthz');
  t.equal(workerContainer.ports.find((p: any) => p.name === workerContainer.livenessProbe.httpGet.port).containerPort, config!.metricsPort, 'the probe reaches the worker\'s METRICS_PORT');
});

/** Every package a module imports, following relative imports from the given entry files. */
function importedPackages(entries: string[]): Map<string, string> {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const queue = entries.map((e) => path.resolve(e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    // Static imports and re-exports (not `import type`, erased at build) and dynamic import('...').
    const specs = [
      ...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm),
      ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ].map((m) => m[1]!);
    for (const spec of specs) {
      if (spec.startsWith('.')) {
        queue.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      } else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!packages.has(name)) packages.set(name, path.relative('.', file));
      }
    }
  }
  return packages;
}

t.test('the image builds from src/ and workers/ only, runs on Node 24, ships no dev dependency the service needs, and has a HEALTHCHECK', async (t) => {
  const dockerfile = await readFile('Dockerfile', 'utf8');
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  t.same(froms, ['node:24-bookworm-slim', 'node:24-bookworm-slim'], 'both stages on Node 24');
  const copies = [...dockerfile.matchAll(/^COPY\s+(?:--from=\S+\s+)?(\S+)/gm)].map((m) => m[1]);
  for (const dir of ['test', 'scripts', 'bench']) t.notOk(copies.includes(dir), `the build copies no ${dir}/`);
  t.match(dockerfile, /npm ci --omit=dev/, 'the final stage installs production dependencies only');
  t.match(dockerfile, /^HEALTHCHECK .*\/healthz/ms, 'a HEALTHCHECK asks /healthz');
  t.match(dockerfile, /tsc -p tsconfig\.build\.json/);

  const pkg = JSON.parse(await readFile('package.json', 'utf8'));
  t.equal(pkg.engines.node, '>=24');
  // The service the image runs: entry.ts and everything it imports. Each package it reaches must be a
  // production dependency (npm ci --omit=dev installs nothing else).
  const used = importedPackages(['src/entry.ts']);
  t.ok(used.has('fastify') && used.has('bullmq') && used.has('pg'), 'the walk reaches the service');
  for (const [name, from] of used) {
    t.ok(name in pkg.dependencies, `${name} (imported by ${from}) is a production dependency`);
  }
  for (const dev of ['tsx', 's3rver', 'tap', 'typescript']) t.notOk(dev in pkg.dependencies, `${dev} is a dev dependency only`);
  const build = JSON.parse(await readFile('tsconfig.build.json', 'utf8'));
  // The Node check entry.ts imports first is plain JavaScript in bin/: the build emits it beside dist/src.
  t.same(build.include, ['src', 'workers', 'bin/supported-node.mjs'], 'the build compiles the service and its Node check only');
  t.ok(copies.includes('bin/supported-node.mjs'), 'the image gets the Node check to compile');
});

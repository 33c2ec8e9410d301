// `npm run bench`: loads the same price-paid-shaped file into fresh tables with each contender in turn
// (server-side COPY, psql \copy, pgloader, this service with N streams), round after round, checks
// every load's row count, and reports rows/s, MB/s, the ratio to server-side COPY and peak client
// memory as a table, a JSON document and a PNG chart. bench/README.md explains the method.
//
// Options: --rows N (1000000)  --target plain|citus (plain)  --shards N (32, Citus only)  --rounds N (2)
//          --streams 1[,2,...] (1)  --contenders name,... (all)  --out DIR (bench/results)
//          --objects N (also load the same rows cut into N objects under a prefix: per-object overhead)
//          --max-errors N (also run the service with maxErrors N: the batch-and-savepoint path on a clean file)
//          --via direct|haproxy|pgbouncer (direct): haproxy and pgbouncer load the HA stack of
//          scripts/ha-local.sh (Citus under Patroni); the service reaches it through HAProxy, or through
//          PgBouncer in transaction mode, the other contenders through HAProxy. Implies --target citus.
//          --bad-every N (also run the service, maxErrors allowing them, on the file with every Nth record a duplicate key)
//          --merge [--changes N (100000)]: instead, mode "merge" of a monthly change file of N records into a
//          --rows table against appending the same file (bench/merge.ts)
//          --profile (the service under --cpu-prof: a profile per load beside the results, its top functions printed)
//          --warm (also "service x1 warm": the same load timed in a service process that has loaded the file once
//          before, into a scratch table: V8 has compiled the load path, as in a worker that runs job after job)
//          --plain part,... (also "service x1 plain <part>" per part: a hand-built part turned off, src/handbuilt/)
//          --format parquet [--row-group-rows N (1000000)]: also the same rows as a Parquet object (snappy, Spark's
//          types), loaded by the service beside the CSV one; prints the ratio and the decoder's own rate
//          --entry-nodes coordinator,all[,auto] (Citus): instead of service xN, the service once per entry mode
//          (target.entryNodes, chunks over 3 streams); prints each node's PostgreSQL CPU per 1M rows and the
//          projected ceiling of larger clusters (bench/nodeCpu.ts, bench/projection.ts)
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { uploadAsObjects } from './objects.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '../src/config.js';
import { barChartPng } from './chart.js';
import { killAll } from './contenders/live.js';
import { pgloader } from './contenders/pgloader.js';
import { psqlCopy } from './contenders/psqlCopy.js';
import { serverCopy } from './contenders/serverCopy.js';
import { DEFAULT_CONNECTIONS_PER_WORKER } from '../src/sink/citus.js';
import { entryContenderName, entryNodesContender, service, type EntryNodesMode } from './contenders/service.js';
import { clusterNodes, entryProjection, nodeCpuMeter, nodeCpuTable, summariseNodeCpu, type ClusterNode, type EntryProjection } from './nodeCpu.js';
import { SkipContender, type Contender, type RunContext } from './contenders/types.js';
import { ensureBadDataFile, ensureDataFile, SEED } from './data.js';
import { decodeRate, ensureParquetFile } from './parquetData.js';
import { CLIENT_SAMPLE_INTERVAL_MS, cpuMeter, SAMPLE_INTERVAL_MS } from './measure.js';
import { chartInput, MB, resultsTable, stageTable, summarise, type RoundResult } from './report.js';
import { profileLines, summariseProfile } from './profile.js';
import { gitInfo, machineInfo, redactUrl, writeResults } from './results.js';
import { startS3, uploadDataFile, type S3Endpoint } from './s3.js';
import { cleanUpServiceRuns, reachRedis } from './serviceState.js';
import { CitusUnavailable, countRows, createTable, dropTable, openTarget, settle, tableName, type Target, type TargetKind, type Via } from './target.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function usage(message: string): never {
  console.error(`bench: ${message}`);
  console.error('usage: npm run bench -- [--rows N] [--target plain|citus] [--shards N] [--rounds N] [--streams 1,4] [--contenders a,b] [--out DIR] [--profile] [--entry-nodes coordinator,all]');
  process.exit(2);
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive whole number, got ${JSON.stringify(value)}`);
  return n;
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      target: { type: 'string', default: 'plain' },
      shards: { type: 'string', default: '32' },
      rounds: { type: 'string', default: '2' },
      streams: { type: 'string', default: '1' },
      contenders: { type: 'string' },
      out: { type: 'string', default: 'bench/results' },
      objects: { type: 'string' },
      'max-errors': { type: 'string' },
      'bad-every': { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      via: { type: 'string', default: 'direct' },
      merge: { type: 'boolean', default: false },
      changes: { type: 'string', default: '100000' },
      profile: { type: 'boolean', default: false },
      warm: { type: 'boolean', default: false },
      plain: { type: 'string' },
      format: { type: 'string', default: 'csv' },
      'row-group-rows': { type: 'string', default: '1000000' },
      'entry-nodes': { type: 'string' },
    },
  }).values;
} catch (err) {
  usage((err as Error).message);
}
if (!['direct', 'haproxy', 'pgbouncer'].includes(parsed.via)) usage(`--via must be direct, haproxy or pgbouncer, got ${JSON.stringify(parsed.via)}`);
if (parsed.via !== 'direct') parsed.target = 'citus';
if (parsed.format !== 'csv' && parsed.format !== 'parquet') usage(`--format must be csv or parquet, got ${JSON.stringify(parsed.format)}`);
if (parsed.target !== 'plain' && parsed.target !== 'citus') usage(`--target must be plain or citus, got ${JSON.stringify(parsed.target)}`);
const entryModes = [...new Set(parsed['entry-nodes']?.split(',').map((s) => s.trim()).filter(Boolean) ?? [])];
for (const m of entryModes) if (!['coordinator', 'all', 'auto'].includes(m)) usage(`--entry-nodes takes coordinator, all and auto, got ${JSON.stringify(m)}`);
if (entryModes.length && parsed.target !== 'citus') usage('--entry-nodes needs --target citus');
const options = {
  rows: positiveInt('rows', parsed.rows),
  target: parsed.target as TargetKind,
  shards: positiveInt('shards', parsed.shards),
  rounds: positiveInt('rounds', parsed.rounds),
  streams: [...new Set(parsed.streams.split(',').map((s) => positiveInt('streams', s.trim())))],
  contenders: parsed.contenders?.split(',').map((s) => s.trim()).filter(Boolean) ?? null,
  out: path.resolve(root, parsed.out),
  objects: parsed.objects ? positiveInt('objects', parsed.objects) : null,
  maxErrors: parsed['max-errors'] ? positiveInt('max-errors', parsed['max-errors']) : null,
  badEvery: parsed['bad-every'] ? positiveInt('bad-every', parsed['bad-every']) : null,
  concurrency: positiveInt('concurrency', parsed.concurrency),
  via: parsed.via as Via,
  profile: parsed.profile === true,
  warm: parsed.warm === true,
  plain: parsed.plain?.split(',').map((s) => s.trim()).filter(Boolean) ?? [],
  parquet: parsed.format === 'parquet' ? { rowGroupRows: positiveInt('row-group-rows', parsed['row-group-rows']) } : null,
  entryNodes: entryModes as EntryNodesMode[],
};

if (parsed.merge) {
  const { runMergeBench } = await import('./merge.js');
  const { benchDatabaseUrl } = await import('./target.js');
  await runMergeBench({
    rows: options.rows, changes: positiveInt('changes', parsed.changes), target: options.target, shards: options.shards,
    rounds: options.rounds, out: options.out, databaseUrl: benchDatabaseUrl(options.target, root, process.env),
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  });
  process.exit(0);
}

// Contenders are chosen by name with punctuation ignored: server-copy, psqlcopy, "service x4",
// service-x4; plain `service` selects every service contender.
const key = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');
let prefixUrl = '';
let badUrl = '';
let parquetUrl = '';
const PARQUET = 'service x1 parquet';
let contenders: Contender[] = [
  serverCopy(),
  // On Citus: the ceiling again with the connections per worker the service's COPYs use by default.
  ...(options.target === 'citus' ? [serverCopy(DEFAULT_CONNECTIONS_PER_WORKER)] : []),
  psqlCopy(),
  pgloader(),
  // --entry-nodes: the service once per entry mode (chunks over 3 streams) instead of once per --streams value.
  ...(options.entryNodes.length ? options.entryNodes.map(entryNodesContender) : options.streams.map((n) => service(n))),
  ...(options.warm ? [service(1, { warmUp: true, name: 'service x1 warm' })] : []),
  // --plain scan: the same load with one hand-built part turned off (src/handbuilt/README.md).
  ...options.plain.map((part) => service(1, { plain: part, name: `service x1 plain ${part}` })),
  ...(options.objects
    ? [service(1, { sourceUrl: () => prefixUrl, concurrency: options.concurrency, name: `service ${options.objects} objects` })]
    : []),
  ...(options.maxErrors ? [service(1, { maxErrors: options.maxErrors, name: `service x1 maxErrors ${options.maxErrors}` })] : []),
  ...(options.parquet ? [service(1, { sourceUrl: () => parquetUrl, format: 'parquet', name: PARQUET })] : []),
  ...(options.badEvery
    ? [service(1, { sourceUrl: () => badUrl, maxErrors: Math.floor(options.rows / options.badEvery), name: `service x1 bad every ${options.badEvery}` })]
    : []),
];
/** Rows a contender's load must leave: the bad-records contender loads all but the refused ones. */
const expectedRows = (name: string): number => (options.badEvery && name === `service x1 bad every ${options.badEvery}` ? options.rows - Math.floor(options.rows / options.badEvery) : options.rows);
if (options.contenders) {
  const wanted = options.contenders.map(key);
  const unknown = wanted.filter((w) => !contenders.some((c) => key(c.name) === w || (w === 'service' && c.name.startsWith('service'))));
  if (unknown.length) usage(`unknown contender(s) ${unknown.join(', ')}; known: ${contenders.map((c) => c.name).join(', ')}`);
  contenders = contenders.filter((c) => wanted.includes(key(c.name)) || (wanted.includes('service') && c.name.startsWith('service')));
}
const names = contenders.map((c) => c.name);
const usesService = names.some((n) => n.startsWith('service'));
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const runId = randomUUID().slice(0, 8);
const queueName = `bench-${runId}`;

let target: Target | undefined;
let s3: S3Endpoint | undefined;
/** The table being loaded right now, dropped if the run is interrupted. */
let current: string | undefined;
async function cleanUp(): Promise<void> {
  await killAll();
  if (target && current) await dropTable(target, current).catch(() => {});
  if (target && usesService) await cleanUpServiceRuns(target, redisUrl, queueName);
  await s3?.stop();
  await target?.close().catch(() => {});
}
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    interrupted = true;
    console.error(`\nbench: ${sig}: stopping children and cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}
/** After an interrupt the rounds start nothing new; the signal handler cleans up and exits. */
const halted = (): Promise<never> => new Promise<never>(() => {});

try {
  target = await openTarget(options.target, options.shards, root, process.env, options.via);
} catch (err) {
  if (err instanceof CitusUnavailable) {
    console.error(`bench: --target citus: Citus is not available here: ${err.message}`);
    process.exit(2);
  }
  console.error(`bench: cannot open the ${options.target} target: ${(err as Error).message}`);
  process.exit(1);
}
// Citus: each node's postmaster, whose processes' CPU every load is measured by (bench/nodeCpu.ts).
const nodes: ClusterNode[] | undefined = target.kind === 'citus' ? await clusterNodes(target) : undefined;
const nodeCpu = nodes ? nodeCpuMeter(nodes) : undefined;
if (nodes) {
  const found = nodes.map((n) => `${n.label} ${n.address} ${n.postmasterPid === null ? `(n/a: ${n.why})` : `(postmaster ${n.postmasterPid})`}`);
  console.log(`bench: per-node PostgreSQL CPU from /proc: ${found.join(', ')}`);
}
const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const base = `${stamp}-${options.target}${options.via === 'direct' ? '' : `-via-${options.via}`}-${options.rows}`;
// --profile: the service's CPU profiles go beside the results, one per load.
const profileDir = options.profile && usesService ? path.join(options.out, `${base}-profiles`) : undefined;
if (profileDir) await mkdir(profileDir, { recursive: true });
console.log(
  `bench: ${options.target} target ${redactUrl(target.url)} (PostgreSQL ${target.postgresVersion}` +
    `${target.citusVersion ? `, Citus ${target.citusVersion}, ${target.citusWorkers} workers, ${options.shards} shards` : ''})` +
    (options.via === 'direct' ? '' : `; the service via ${options.via} ${redactUrl(target.service.url)} (DATABASE_POOL_MODE=${target.service.poolMode})`),
);

const data = await ensureDataFile(options.rows);
console.log(
  `bench: ${data.reused ? 'reusing' : `generated in ${data.generateSeconds.toFixed(1)} s`} ${data.path} ` +
    `(${options.rows.toLocaleString('en-US')} rows, ${(data.bytes / MB).toFixed(1)} MB)`,
);

let sourceUrl = '';
let decoderRate: Awaited<ReturnType<typeof decodeRate>> | undefined;
let uploadSeconds: number | null = null;
if (usesService) {
  try {
    await reachRedis(redisUrl);
    s3 = await startS3(root);
    const up = await uploadDataFile(s3, data);
    sourceUrl = up.url;
    uploadSeconds = up.seconds;
    console.log(`bench: uploaded to ${up.url} on ${s3.embedded ? `the embedded S3 (child pid ${s3.pid}) at ` : ''}${s3.endpoint ?? 'AWS S3'} in ${up.seconds.toFixed(1)} s`);
    if (options.badEvery) {
      const bad = await ensureBadDataFile(data, options.badEvery);
      const up = await uploadDataFile(s3, bad);
      badUrl = up.url;
      console.log(`bench: ${bad.badRows.toLocaleString('en-US')} of the rows made duplicate keys (every ${options.badEvery}th) in ${up.url}`);
    }
    if (options.parquet) {
      const pq = await ensureParquetFile(options.rows, options.parquet.rowGroupRows);
      const up = await uploadDataFile(s3, pq);
      parquetUrl = up.url;
      console.log(`bench: ${pq.reused ? 'reusing' : `wrote in ${pq.generateSeconds.toFixed(1)} s`} ${pq.path} (${(pq.bytes / MB).toFixed(1)} MB, row groups of ${options.parquet.rowGroupRows.toLocaleString('en-US')} rows), uploaded to ${up.url}`);
      decoderRate = await decodeRate(pq);
      console.log(`bench: the Parquet decoder alone: ${Math.round(decoderRate.rowsPerSecond).toLocaleString('en-US')} rows/s (${decoderRate.seconds.toFixed(2)} s; RSS grew ${decoderRate.rssGrowthMb.toFixed(0)} MiB)`);
    }
    if (options.objects) {
      const many = await uploadAsObjects(s3, data, options.objects);
      prefixUrl = many.url;
      console.log(`bench: uploaded the same rows as ${options.objects} objects under ${many.url} in ${many.seconds.toFixed(1)} s`);
    }
    // The service runs compiled, as in production: build it once.
    const build = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
  } catch (err) {
    console.error(`bench: ${err instanceof ConfigError ? err.message : (err as Error).message}`);
    await cleanUp();
    process.exit(1);
  }
}

const skipped = new Map<string, string>();
for (const c of contenders) {
  const why = await c.unavailable?.();
  if (why) {
    skipped.set(c.name, why);
    console.log(why);
  }
}

const rounds: RoundResult[] = [];
for (let round = 1; round <= options.rounds; round++) {
  // Round-robin, starting one contender later each round, so no contender always runs first.
  const order = contenders.map((_, i) => contenders[(i + round - 1) % contenders.length]!);
  for (const c of order) {
    if (interrupted) await halted();
    if (skipped.has(c.name)) continue;
    const table = tableName(c.name, round);
    current = table;
    const ctx: RunContext = { root, target, file: data, sourceUrl, s3, redisUrl, queueName, table, ...(profileDir ? { profileDir } : {}), ...(nodeCpu ? { nodeCpu } : {}) };
    const result: RoundResult = { contender: c.name, round, table, seconds: null, rowsPerSecond: null, mbPerSecond: null, peakRssMb: null, clientCpuS: null, sourceCpuS: null, count: null, valid: false };
    try {
      await createTable(target, table);
      await settle(target);
      // The embedded S3 endpoint is a process of its own: what serving the object cost is measured apart.
      const sourceCpu = await cpuMeter(s3?.embedded ? s3.pid : undefined);
      const aroundRun = await nodeCpu?.();
      const m = await c.run(ctx);
      const sourceCpuS = await sourceCpu();
      const nodeCpuAround = await aroundRun?.();
      Object.assign(result, {
        seconds: m.seconds,
        rowsPerSecond: options.rows / m.seconds,
        mbPerSecond: data.bytes / MB / m.seconds,
        peakRssMb: m.peakRssMb,
        clientCpuS: m.clientCpuS ?? null,
        sourceCpuS,
        ...(m.timings ? { timings: m.timings } : {}),
        ...(m.extra ? { extra: m.extra } : {}),
        ...(m.nodeCpu || nodeCpuAround ? { nodeCpu: m.nodeCpu ?? nodeCpuAround } : {}),
      });
      if (m.profile) {
        result.profile = await summariseProfile(m.profile.file, m.profile.fromUs, m.profile.toUs).catch((err: Error) => {
          console.error(`bench: could not read the profile ${m.profile!.file}: ${err.message}`);
          return undefined;
        });
      }
      result.count = await countRows(target, table);
      result.valid = result.count === expectedRows(c.name);
      if (!result.valid) result.error = `count(*) is ${result.count}, expected ${expectedRows(c.name)}`;
    } catch (err) {
      if (err instanceof SkipContender) {
        skipped.set(c.name, err.message);
        console.log(err.message);
        continue;
      }
      result.error = (err as Error).message;
      result.count = await countRows(target, table).catch(() => null);
    } finally {
      await dropTable(target, table).catch((err: Error) => console.error(`bench: could not drop ${table}: ${err.message}`));
      current = undefined;
    }
    if (interrupted) await halted();
    rounds.push(result);
    const rate = result.rowsPerSecond === null ? '' : `, ${Math.round(result.rowsPerSecond).toLocaleString('en-US')} rows/s`;
    const secs = result.seconds === null ? 'failed' : `${result.seconds.toFixed(3)} s`;
    console.log(`round ${round}/${options.rounds} ${c.name}: ${secs}${rate}, count ${result.count ?? '?'}${result.valid ? '' : ` INVALID: ${result.error}`}`);
    if (result.profile) console.log(profileLines(result.profile).join('\n'));
  }
}

const summaries = summarise(names, skipped, rounds, options.rows, data.bytes);
console.log(`\nresults: ${options.target}, ${options.rows.toLocaleString('en-US')} rows, ${(data.bytes / MB).toFixed(1)} MB; per contender the median of its valid rounds (of ${options.rounds})\n`);
console.log(resultsTable(summaries));
const stages = stageTable(summaries);
if (stages) console.log(`\nservice stage timings (ms, median of valid rounds; outsideRunMs = wall time - totalMs):\n${stages}`);
for (const [name, why] of skipped) if (!rounds.some((r) => r.contender === name)) console.log(`note: ${why}`);
if (options.objects) {
  const one = summaries.find((x) => x.contender === 'service x1');
  const many = summaries.find((x) => x.contender === `service ${options.objects} objects`);
  if (one?.seconds && many?.seconds) {
    const perObject = ((many.seconds - one.seconds) / options.objects) * 1000;
    console.log(`\nper-object overhead: (${many.seconds.toFixed(2)} s for ${options.objects} objects - ${one.seconds.toFixed(2)} s for one object) / ${options.objects} = ${perObject.toFixed(1)} ms per object (concurrency ${options.concurrency})`);
  }
}

if (options.parquet) {
  const csv = summaries.find((x) => x.contender === 'service x1');
  const pq = summaries.find((x) => x.contender === PARQUET);
  if (csv?.rowsPerSecond && pq?.rowsPerSecond) {
    console.log(`\nParquet against CSV (service x1): ${(pq.rowsPerSecond / csv.rowsPerSecond).toFixed(2)}x of the CSV load's rows/s; peak RSS ${pq.peakRssMb?.toFixed(0) ?? '?'} MiB (CSV ${csv.peakRssMb?.toFixed(0) ?? '?'} MiB)`);
  }
}

// Citus: each node's PostgreSQL CPU per 1M rows, and with --entry-nodes coordinator,all the projection.
const nodeSummaries = nodes ? summariseNodeCpu(nodes, names, rounds, options.rows) : undefined;
let projection: EntryProjection | undefined;
if (nodeSummaries) {
  console.log(`\nPostgreSQL CPU s per 1,000,000 rows of each node (every process of its postmaster, from /proc), median of valid rounds:\n${nodeCpuTable(nodeSummaries)}`);
  if (options.entryNodes.includes('coordinator') && options.entryNodes.includes('all')) {
    projection = entryProjection(nodes!, nodeSummaries, options.rows, entryContenderName('coordinator'), entryContenderName('all'));
    console.log(`\n${'text' in projection ? projection.text : `projection: not made: ${projection.skipped}`}`);
  }
}

const machine = machineInfo();
const dbLine = `PostgreSQL ${target.postgresVersion}${target.citusVersion ? `, Citus ${target.citusVersion} (${target.citusWorkers} workers, ${options.shards} shards)` : ''}`;
const png = barChartPng(
  chartInput(
    summaries,
    `citus-ingest bench: ${options.target}, ${options.rows.toLocaleString('en-US')} rows`,
    `rows/s, median of ${options.rounds} round(s); ${dbLine}`,
    [
      `${machine.cpus} CPUs, ${(machine.totalMemoryBytes / 2 ** 30).toFixed(0)} GiB; one machine; S3 on loopback; ${startedAt.toISOString().slice(0, 16)}Z`,
      ...[...skipped.values()].map((why) => why.replace(/ \(.*$/, ' (see JSON)')),
    ],
  ),
);
const document = {
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  summaryMethod: 'median of valid rounds (bestSeconds also kept); rates use the file size in MB = 1e6 bytes; peak RSS in MiB',
  options: { ...options, out: path.relative(root, options.out) || '.' },
  machine,
  git: gitInfo(root),
  database: {
    target: options.target,
    url: redactUrl(target.url),
    via: options.via,
    serviceUrl: redactUrl(target.service.url),
    servicePoolMode: target.service.poolMode,
    postgresVersion: target.postgresVersion,
    citusVersion: target.citusVersion,
    citusWorkers: target.citusWorkers,
    shards: options.target === 'citus' ? options.shards : null,
  },
  data: { path: data.path, rows: data.rows, bytes: data.bytes, seed: SEED, reused: data.reused, generateSeconds: data.generateSeconds },
  s3: s3 ? { embedded: s3.embedded, endpoint: s3.endpoint ?? null, sourceUrl, uploadSeconds } : null,
  profiles: profileDir ? path.relative(root, profileDir) : null,
  parquet: options.parquet ? { url: parquetUrl, rowGroupRows: options.parquet.rowGroupRows, decoder: decoderRate ?? null } : null,
  rssSampleIntervalMs: { service: SAMPLE_INTERVAL_MS, clients: CLIENT_SAMPLE_INTERVAL_MS },
  skipped: Object.fromEntries(skipped),
  summaries,
  nodeCpu: nodes
    ? {
        method: "CPU seconds (utime + stime) of every process each node's postmaster forked, from /proc: its reaped children's cutime + cstime plus its live children's times, read before and after each load",
        nodes,
        contenders: nodeSummaries,
        projection: projection && 'text' in projection ? { costs: projection.costs, ceilings: projection.ceilings } : (projection ?? null),
      }
    : null,
  rounds,
};
const written = await writeResults(options.out, base, document, png);
console.log(`\nbench: wrote ${path.relative(root, written.json)} and ${path.relative(root, written.png)} (and latest.json, latest.png)`);

await cleanUp();
const allValid = summaries.every((s) => s.valid || (skipped.has(s.contender) && s.roundsRun === 0));
process.exit(allValid ? 0 : 1);

// The service under test as a child process, compiled as it runs in production (`node
// dist/src/entry.js all`, built by the benchmark with `npm run build`), started on a free port with the
// benchmark's database, Redis, S3 and queue, and stopped with SIGTERM. Its memory is what is measured.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { WORKER_NODE_FLAGS } from '../../src/handbuilt/youngGc.js';
import { track } from './live.js';
import { profileNodeArgs } from '../profile.js';
import { serviceS3Env } from '../s3.js';
import type { RunContext } from './types.js';

export interface ServiceProcess {
  url: string;
  /** The node process running the service. */
  pid: number;
  /** --profile: where its CPU profile is written when it exits. */
  profileFile: string | undefined;
  /** The last lines the service printed (LOG_LEVEL=warn), for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/** A port nothing listens on right now: bind port 0, read what the kernel chose, let it go. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * `plain`: the hand-built parts turned off in this process (CITUS_INGEST_PLAIN, src/handbuilt/). The
 * process loads files, so it gets the worker's node flags (WORKER_NODE_FLAGS), unless `gc` is off.
 */
export async function startServiceProcess(ctx: RunContext, plain = process.env.CITUS_INGEST_PLAIN ?? '', readyTimeoutMs = 60_000): Promise<ServiceProcess> {
  if (!ctx.s3) throw new Error('the service needs the file in S3, and nothing was uploaded');
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...serviceS3Env(ctx.s3),
    DATABASE_URL: ctx.target.service.url,
    DATABASE_POOL_MODE: ctx.target.service.poolMode,
    ...(ctx.target.service.listenUrl ? { DATABASE_LISTEN_URL: ctx.target.service.listenUrl } : {}),
    REDIS_URL: ctx.redisUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    QUEUE_NAME: ctx.queueName,
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '1',
    CITUS_INGEST_PLAIN: plain,
  };
  // BENCH_SERVICE_NODE_ARGS passes flags to the service's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = process.env.BENCH_SERVICE_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  if (!/\b(gc|all)\b/.test(plain)) nodeArgs.unshift(...WORKER_NODE_FLAGS);
  // --profile: one profile per load, named after its table (contender and round).
  const profileName = ctx.profileDir ? ctx.table.replace(/^.*\./, '') : undefined;
  if (profileName) nodeArgs.push(...profileNodeArgs(ctx.profileDir!, profileName));
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, path.join(ctx.root, 'dist/src/entry.js'), 'all'], {
    cwd: ctx.root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const keep = (chunk: Buffer): void => {
    text = (text + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // BENCH_SERVICE_LOG: every line the service prints is appended to this file too (e.g. with --trace-gc).
  if (process.env.BENCH_SERVICE_LOG) {
    const log = createWriteStream(process.env.BENCH_SERVICE_LOG, { flags: 'a' });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
  }
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const done = new Promise<void>((resolve) => (gone() ? resolve() : child.once('exit', () => resolve())));
  const killBoth = async (): Promise<void> => {
    if (gone()) return;
    child.kill('SIGKILL');
    await done;
  };
  void done.then(track(killBoth));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (gone()) throw new Error(`the service exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${text.trim()}`);
    const status = await fetch(`${url}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) break;
    if (Date.now() > deadline) {
      await killBoth();
      throw new Error(`the service was not ready within ${readyTimeoutMs} ms (last /readyz: ${status}):\n${text.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid!;

  return {
    url,
    pid,
    profileFile: profileName ? path.join(ctx.profileDir!, `${profileName}.cpuprofile`) : undefined,
    output: () => text,
    async stop() {
      signal(pid, 'SIGTERM');
      const timer = setTimeout(() => void killBoth(), 45_000);
      await done;
      clearTimeout(timer);
    },
  };
}

// The soak's processes, as a deployment runs them: a Redis of its own (no persistence, so a restart
// loses every queue key, and the shared Redis is never touched), the embedded S3 endpoint (its objects
// kept on disk across restarts), one API process and several worker processes, each `node --import tsx
// src/entry.ts ROLE`, restartable after a kill.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FleetOptions {
  env: Record<string, string>;
  workers: number;
  apiPort: number;
  s3Port: number;
  s3Dir: string;
  /** The port of the soak's own Redis (started and restarted here). */
  redisPort: number;
  log: (line: string) => void;
}

type Role = 'api' | 'worker';

export class Fleet {
  private readonly procs = new Map<string, ChildProcess>();
  s3Endpoint = '';
  private stopping = false;

  constructor(private readonly o: FleetOptions) {}

  get apiUrl(): string {
    return `http://127.0.0.1:${this.o.apiPort}`;
  }

  get workerNames(): string[] {
    return Array.from({ length: this.o.workers }, (_, i) => `worker${i + 1}`);
  }

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.o.redisPort}`;
  }

  async start(): Promise<void> {
    await this.startRedis();
    await this.startS3();
    await this.startService('api');
    for (const name of this.workerNames) await this.startService(name);
  }

  async startS3(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/soak/s3.ts', String(this.o.s3Port), this.o.s3Dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.procs.set('s3', child);
    const first = await lineOf(child);
    this.s3Endpoint = (JSON.parse(first) as { endpoint: string }).endpoint;
  }

  /** Starts the soak's Redis in the foreground (a child of this process); resolves once it answers PING. */
  async startRedis(): Promise<void> {
    const port = String(this.o.redisPort);
    const child = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.o.s3Dir], { stdio: 'ignore' });
    this.procs.set('redis', child);
    for (let i = 0; i < 100; i++) {
      if (await run('redis-cli', ['-h', '127.0.0.1', '-p', port, 'ping']).then((r) => r.stdout.trim() === 'PONG', () => false)) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the soak's Redis did not start on port ${port}`);
  }

  /** Starts the API ('api') or a worker (its name); resolves once it answers or says it started. */
  async startService(name: string): Promise<void> {
    const role: Role = name === 'api' ? 'api' : 'worker';
    const env = { ...process.env, ...this.o.env, REDIS_URL: this.redisUrl, S3_ENDPOINT: this.s3Endpoint, PORT: String(this.o.apiPort), LOG_LEVEL: 'info' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/entry.ts', role], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.set(name, child);
    child.stderr!.on('data', (d: Buffer) => this.o.log(`${name}: ${d.toString().trim()}`));
    const ready = role === 'api' ? /API listening/ : /worker started/;
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 90 s`)), 90_000);
      lines.on('line', (line) => {
        if (/"level":(50|60)/.test(line)) this.o.log(`${name}: ${line.slice(0, 400)}`);
        if (ready.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (!this.stopping) reject(new Error(`${name} exited (${code}) while starting`));
      });
    });
  }

  /** SIGKILLs a process; resolves when it is gone. */
  async kill(name: string): Promise<void> {
    const child = this.procs.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = once(child, 'exit');
    child.kill('SIGKILL');
    await gone;
  }

  async restart(name: string): Promise<void> {
    await this.kill(name);
    if (name === 's3') await this.startS3();
    else if (name === 'redis') await this.startRedis();
    else await this.startService(name);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // Redis last: the workers' stop still talks to it.
    const order = [...this.procs].sort(([a], [b]) => Number(a === 'redis') - Number(b === 'redis'));
    for (const [name, child] of order) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      await gone;
      clearTimeout(timer);
    }
  }
}

async function lineOf(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  return line;
}

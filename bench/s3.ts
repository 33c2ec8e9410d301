// Object storage for the benchmark: the S3_ENDPOINT the environment names, or else the embedded S3
// started as a child process (bench/s3-server.ts). The data file is uploaded with a multipart Upload
// before any timing starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { loadConfig } from '../src/config.js';
import { createS3Client, s3Settings } from '../src/sources/s3/client.js';
import type { DataFile } from './data.js';

export const BUCKET = 'bench';

export interface S3Endpoint {
  endpoint: string | undefined;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
  /** True when this run started the embedded S3 child. */
  embedded: boolean;
  /** When embedded, the pid of the node process that serves the objects (tsx is loaded as a hook, not a launcher, so this is the process whose CPU and memory count). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** The environment the service child needs to reach this endpoint. */
export function serviceS3Env(s3: S3Endpoint): Record<string, string> {
  const env: Record<string, string> = { S3_REGION: s3.region, S3_FORCE_PATH_STYLE: String(s3.forcePathStyle) };
  if (s3.endpoint) env.S3_ENDPOINT = s3.endpoint;
  if (s3.accessKeyId && s3.secretAccessKey) {
    env.S3_ACCESS_KEY_ID = s3.accessKeyId;
    env.S3_SECRET_ACCESS_KEY = s3.secretAccessKey;
  }
  return env;
}

async function startEmbeddedChild(root: string): Promise<S3Endpoint> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/s3-server.ts'), BUCKET], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => {
      rl.close();
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`the embedded S3 child exited (${code}) before it was ready`)));
  });
  const info = JSON.parse(line) as { endpoint: string; accessKeyId: string; secretAccessKey: string };
  return {
    endpoint: info.endpoint,
    region: 'us-east-1',
    accessKeyId: info.accessKeyId,
    secretAccessKey: info.secretAccessKey,
    forcePathStyle: true,
    embedded: true,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end(); // the child removes its objects and exits
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Uses S3_ENDPOINT (and the S3_* variables, read as the service reads them) or starts the embedded S3. */
export async function startS3(root: string): Promise<S3Endpoint> {
  const config = loadConfig();
  if (!config.s3Endpoint) return startEmbeddedChild(root);
  return {
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    accessKeyId: config.s3AccessKeyId,
    secretAccessKey: config.s3SecretAccessKey,
    forcePathStyle: config.s3ForcePathStyle,
    embedded: false,
    pid: undefined,
    async stop() {},
  };
}

export interface Uploaded {
  url: string;
  seconds: number;
}

export async function uploadDataFile(s3: S3Endpoint, file: DataFile): Promise<Uploaded> {
  const client = createS3Client(s3Settings({
    s3Endpoint: s3.endpoint,
    s3Region: s3.region,
    s3AccessKeyId: s3.accessKeyId,
    s3SecretAccessKey: s3.secretAccessKey,
    s3ForcePathStyle: s3.forcePathStyle,
  }));
  try {
    await client.send(new HeadBucketCommand({ Bucket: BUCKET })).catch(() => client.send(new CreateBucketCommand({ Bucket: BUCKET })));
    const key = `citus-ingest-bench/${path.basename(file.path)}`;
    const t0 = performance.now();
    await new Upload({ client, params: { Bucket: BUCKET, Key: key, Body: createReadStream(file.path) } }).done();
    return { url: `s3://${BUCKET}/${key}`, seconds: (performance.now() - t0) / 1000 };
  } finally {
    client.destroy();
  }
}

// An S3-compatible server in this process (the s3rver package) on a loopback port, for the demo, the
// tests and the benchmark when no S3_ENDPOINT is configured. Objects live in a temporary directory.
import { createReadStream, ReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface EmbeddedS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

export async function startEmbeddedS3(options: { buckets?: string[]; port?: number } = {}): Promise<EmbeddedS3> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'citus-ingest-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  readObjectsInLargePieces(server);
  const address = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    // s3rver accepts these fixed credentials.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    async stop() {
      await server.close().catch(() => {});
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Bytes per read when the embedded server sends an object. */
export const EMBEDDED_READ_BYTES = 1 << 20;

interface StoredObject {
  content: unknown;
}
interface ObjectStore {
  getObject(bucket: string, key: string, options?: unknown): Promise<StoredObject | null>;
}

/**
 * s3rver sends an object as a file stream of 64 KiB reads, and each read costs a thread-pool round trip
 * and a socket write: serving 167 MB took 0.35-0.5 s of CPU here, against 0.1 s with 1 MiB reads. On
 * one machine that CPU is taken from the database the benchmark measures, so the store's file stream
 * is reopened over the same byte range with larger reads. Production reads MinIO or S3, elsewhere.
 */
function readObjectsInLargePieces(server: S3rver): void {
  const store = (server as unknown as { store: ObjectStore }).store;
  const getObject = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const object = await getObject(bucket, key, options);
    const content = object?.content;
    if (!(content instanceof ReadStream)) return object;
    const { path: file, start, end } = content as ReadStream & { start?: number; end?: number };
    content.destroy();
    object!.content = await new Promise<ReadStream>((resolve, reject) => {
      const stream = createReadStream(file, { start, end, highWaterMark: EMBEDDED_READ_BYTES })
        .once('error', reject)
        .once('open', () => resolve(stream));
    });
    return object;
  };
}

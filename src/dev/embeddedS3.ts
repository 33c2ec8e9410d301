// An S3-compatible server in this process (the s3rver package) on a loopback port, for the demo, the
// tests and the benchmark when no S3_ENDPOINT is configured. Objects live in a temporary directory.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createReadStream, ReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

/** A ListObjectsV2 request as the embedded server received it. */
export interface ListRequest {
  bucket: string;
  prefix: string;
  /** The last key of the page before (from the continuation token or start-after); undefined for a first page. */
  startAfter: string | undefined;
}

export interface EmbeddedS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * Called with every ListObjectsV2 request before it is answered; the answer waits for it. Tests watch
   * a listing's pages with it, and fail one by throwing (S3 then answers 500 InternalError).
   */
  onList?: (request: ListRequest) => void | Promise<void>;
  stop(): Promise<void>;
}

export async function startEmbeddedS3(options: { buckets?: string[]; port?: number; /** Kept on stop: the objects outlive the server. */ directory?: string } = {}): Promise<EmbeddedS3> {
  const directory = options.directory ?? (await mkdtemp(path.join(os.tmpdir(), 'citus-ingest-s3-')));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  readObjectsInLargePieces(server);
  const embedded: EmbeddedS3 = {
    endpoint: '',
    // s3rver accepts these fixed credentials.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    async stop() {
      await server.close().catch(() => {});
      if (options.directory === undefined) await rm(directory, { recursive: true, force: true });
    },
  };
  pageListingsWithoutDes(server, (request) => embedded.onList?.(request));
  const address = (await server.run()) as { port: number };
  embedded.endpoint = `http://127.0.0.1:${address.port}`;
  return embedded;
}

/** Bytes per read when the embedded server sends an object. */
export const EMBEDDED_READ_BYTES = 1 << 20;

interface StoredObject {
  content: unknown;
}
interface ListResult {
  objects: Array<{ key: string }>;
  isTruncated: boolean;
}
interface ObjectStore {
  getObject(bucket: string, key: string, options?: unknown): Promise<StoredObject | null>;
  listObjects(bucket: string, options: unknown): Promise<ListResult>;
}

/**
 * s3rver sends an object as a file stream of 64 KiB reads, and each read costs a thread-pool round trip
 * and a socket write: more than twice the CPU of 1 MiB reads (docs/performance.md has the figures). On
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

type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** One ListObjectsV2 request's view of the listing s3rver makes for it. */
interface ListingState {
  truncated: boolean;
  lastKey: string | undefined;
}

const TOKEN_PREFIX = 'citus-ingest-embedded:';

/**
 * s3rver makes ListObjectsV2 continuation tokens by encrypting the last key with single DES, a cipher
 * OpenSSL 3 keeps in its legacy provider: on Node 17 and later `createCipheriv('des')` throws
 * ERR_OSSL_EVP_UNSUPPORTED, so no listing can go past its first 1,000 keys. Here the tokens are plain
 * base64url of the bucket and the last key (the embedded endpoint has nothing to hide): a middleware
 * placed just inside s3rver's XML encoder turns an incoming token into `start-after`, hides the
 * truncation from s3rver's handler (which would otherwise try DES), and puts the truncation and the
 * next token back into the answer before it is encoded.
 */
function pageListingsWithoutDes(server: S3rver, onList: (request: ListRequest) => void | Promise<void>): void {
  const app = server as unknown as { store: ObjectStore; middleware: KoaMiddleware[] };
  const listing = new AsyncLocalStorage<ListingState>();
  const listObjects = app.store.listObjects.bind(app.store);
  app.store.listObjects = async (bucket, options) => {
    const result = await listObjects(bucket, options);
    const state = listing.getStore();
    if (!state || !result.isTruncated) return result;
    state.truncated = true;
    state.lastKey = result.objects[result.objects.length - 1]?.key;
    return { ...result, isTruncated: false };
  };
  const middleware: KoaMiddleware = async (ctx, next) => {
    const query = ctx.query;
    if (ctx.method !== 'GET' || query['list-type'] !== '2') return next();
    const bucket = ctx.path.split('/')[1] ?? '';
    const incoming = typeof query['continuation-token'] === 'string' ? query['continuation-token'] : undefined;
    if (incoming !== undefined) {
      const decoded = Buffer.from(incoming, 'base64url').toString('utf8');
      const expected = `${TOKEN_PREFIX}${bucket}/`;
      // A token it does not know goes on to s3rver, which refuses it as S3 would.
      if (decoded.startsWith(expected)) {
        const { 'continuation-token': _token, ...rest } = query;
        ctx.query = { ...rest, 'start-after': decoded.slice(expected.length) };
      }
    }
    const startAfter = ctx.query['start-after'];
    const prefix = ctx.query.prefix;
    await onList({ bucket, prefix: typeof prefix === 'string' ? prefix : '', startAfter: typeof startAfter === 'string' ? startAfter : undefined });
    const state: ListingState = { truncated: false, lastKey: undefined };
    await listing.run(state, next);
    const result = (ctx.body as { ListBucketResult?: Record<string, unknown> } | undefined)?.ListBucketResult;
    if (!result) return;
    if (incoming !== undefined) {
      result.ContinuationToken = incoming;
      result.StartAfter = undefined;
    }
    if (state.truncated && state.lastKey !== undefined) {
      result.IsTruncated = true;
      result.NextContinuationToken = Buffer.from(`${TOKEN_PREFIX}${bucket}/${state.lastKey}`, 'utf8').toString('base64url');
    }
  };
  // s3rver's middleware: logger, XML encoder, mount interop, vhost, router. Inside the encoder, the
  // answer is still an object.
  if (app.middleware.length !== 5) throw new Error(`s3rver's middleware changed (${app.middleware.length} functions, expected 5): review pageListingsWithoutDes`);
  app.middleware.splice(2, 0, middleware);
}

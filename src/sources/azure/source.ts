// Azure Blob Storage (and Azurite) as an ObjectSource, for az://, abfss://, abfs:// and wasbs:// URLs.
// Every ref is resolved to the configured account first (url.ts says why), so every ObjectInfo names
// "account/container". Failures become IngestErrors: a missing blob or container and refused credentials
// are permanent, a blob rewritten since it was listed is SOURCE_CHANGED, everything else is retryable.
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { IngestError } from '../../errors.js';
import { checkAllowList, checkKey } from '../keys.js';
import type { ByteRange, ObjectInfo, ObjectRef, ObjectSource } from '../source.js';
import type { AzureClient } from './client.js';
import { azScheme, splitContainer } from './url.js';

export interface AzureSourceOptions {
  client: AzureClient;
  /** Containers jobs may read; empty means any. */
  allowedContainers: readonly string[];
  /** Blobs per list request; default 5000, the most Azure returns (tests set a few to see paging). */
  listPageSize?: number;
}

const credentialsHint = 'check AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY) and the container\'s access policy';

const unquote = (etag: string | undefined): string => (etag ?? '').replace(/"/g, '');

/** The status and Azure error code of an SDK error (a HEAD's code comes only in its x-ms-error-code header). */
function azureError(err: unknown): { status: number | undefined; code: string } {
  const e = err as { statusCode?: number; code?: string; details?: { errorCode?: string } };
  return { status: e.statusCode, code: e.details?.errorCode ?? e.code ?? '' };
}

/** A ref's blob service names: its container within the configured account. */
interface Target {
  /** The ref with "account/container", as ObjectInfo carries it. */
  ref: ObjectRef;
  container: ContainerClient;
}

export class AzureSource implements ObjectSource {
  readonly scheme = azScheme.scheme;
  readonly listable = true;
  private readonly account: string;

  constructor(private readonly o: AzureSourceOptions) {
    this.account = o.client.account;
  }

  /** The SDK client (tests and tools write blobs with it). */
  get service(): BlobServiceClient {
    return this.o.client.service;
  }

  url(ref: ObjectRef): string {
    return azScheme.url(ref);
  }

  /** Resolves a bare container to the configured account; another account is refused before any request. */
  private target(ref: ObjectRef): Target {
    const { account, container } = splitContainer(ref);
    if (account !== undefined && account !== this.account) {
      throw new IngestError(
        'SOURCE_FORBIDDEN',
        `${this.url(ref)} names storage account ${account}, but this service reads account ${this.account} (from AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT); nothing was requested from it`,
        { field: '/source/url', account },
      );
    }
    return { ref: { scheme: this.scheme, container: `${this.account}/${container}`, key: ref.key }, container: this.service.getContainerClient(container) };
  }

  checkAllowed(ref: ObjectRef): void {
    const { container } = splitContainer(this.target(ref).ref);
    checkAllowList(container, this.o.allowedContainers, 'container', 'AZURE_ALLOWED_CONTAINERS');
  }

  /** Throws the IngestError for an SDK error; a cancelled request throws its signal's reason instead. */
  private fail(err: unknown, where: ObjectRef, signal: AbortSignal | undefined): never {
    if (signal?.aborted) throw signal.reason;
    throw this.mapError(err, where);
  }

  mapError(err: unknown, where: ObjectRef): IngestError {
    if (err instanceof IngestError) return err;
    const url = this.url(where);
    const { status, code } = azureError(err);
    const details = { url, azureError: code || String(status ?? '') };
    if (code === 'ContainerNotFound') {
      const { container } = splitContainer(where);
      return new IngestError('SOURCE_NOT_FOUND', `container ${container} does not exist in storage account ${this.account}; check source.url`, { ...details, container }, { cause: err });
    }
    if (code === 'BlobNotFound' || status === 404) {
      return new IngestError('SOURCE_NOT_FOUND', `blob ${url} does not exist; check source.url`, details, { cause: err });
    }
    if (code === 'ConditionNotMet' || status === 412) {
      return new IngestError('SOURCE_CHANGED', `${url} was rewritten after it was listed; nothing from the new version was loaded`, details, { cause: err });
    }
    if (status === 401 || status === 403 || code === 'AuthenticationFailed' || code.startsWith('Authorization')) {
      return new IngestError('SOURCE_ACCESS_DENIED', `Azure Storage refused access to ${url} (${details.azureError}); ${credentialsHint}`, details, { cause: err });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new IngestError('SOURCE_UNAVAILABLE', `Azure Storage failed for ${url}: ${message}`, details, { cause: err });
  }

  async head(ref: ObjectRef, signal?: AbortSignal): Promise<ObjectInfo> {
    checkKey(ref.key, '/source/url');
    const t = this.target(ref);
    try {
      const p = await t.container.getBlobClient(ref.key).getProperties({ abortSignal: signal });
      return {
        ...t.ref,
        size: p.contentLength ?? 0,
        version: unquote(p.etag),
        contentEncoding: p.contentEncoding || undefined,
        ...(p.lastModified ? { lastModified: p.lastModified } : {}),
      };
    } catch (err) {
      this.fail(err, t.ref, signal);
    }
  }

  async *list(prefix: ObjectRef, signal: AbortSignal): AsyncGenerator<ObjectInfo[]> {
    const t = this.target(prefix);
    const pages = t.container.listBlobsFlat({ prefix: prefix.key, includeMetadata: true, abortSignal: signal }).byPage({ maxPageSize: this.o.listPageSize ?? 5000 });
    for (;;) {
      let page;
      try {
        page = await pages.next();
      } catch (err) {
        this.fail(err, t.ref, signal);
      }
      if (page.done) return;
      const objects: ObjectInfo[] = [];
      for (const b of page.value.segment.blobItems) {
        // Directory placeholders: "dir/" blobs, and the directories of a hierarchical-namespace (ADLS Gen2) account.
        if (b.name.endsWith('/') || b.metadata?.hdi_isfolder === 'true') continue;
        objects.push({
          scheme: this.scheme, container: t.ref.container, key: b.name,
          size: b.properties.contentLength ?? 0,
          version: unquote(b.properties.etag),
          contentEncoding: b.properties.contentEncoding || undefined,
          lastModified: b.properties.lastModified,
        });
      }
      yield objects;
    }
  }

  async open(info: ObjectInfo, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    // Listed keys and manifest entries come here without passing the URL parser.
    checkKey(info.key, '/source/url');
    const t = this.target(info);
    if (range && range.end <= range.start) return Readable.from([]);
    try {
      const out = await t.container.getBlobClient(info.key).download(range?.start ?? 0, range ? range.end - range.start : undefined, {
        conditions: info.version ? { ifMatch: `"${info.version}"` } : {},
        abortSignal: signal,
      });
      const body = out.readableStreamBody;
      if (!(body instanceof Readable)) throw new Error('the SDK returned no Node.js stream for the blob');
      if (range && (out.contentLength ?? 0) !== range.end - range.start && out.contentRange === undefined) {
        body.destroy();
        throw new IngestError('SOURCE_RANGE_UNSUPPORTED', `${this.url(t.ref)}: the server ignored a range request (bytes ${range.start}-${range.end - 1})`, { url: this.url(t.ref) });
      }
      // Listed blobs come without headers: the GET tells the encoding.
      if (out.contentEncoding && !info.contentEncoding) info.contentEncoding = out.contentEncoding;
      return body;
    } catch (err) {
      // Azurite (and, by HTTP's rules, any server) answers If-Match on a deleted blob with 412: tell the two apart.
      if (!signal?.aborted && azureError(err).status === 412 && !(await t.container.getBlobClient(info.key).exists({ abortSignal: signal }).catch(() => true))) {
        throw new IngestError('SOURCE_NOT_FOUND', `${this.url(t.ref)} was deleted after it was listed; check source.url`, { url: this.url(t.ref), azureError: 'BlobNotFound' }, { cause: err });
      }
      this.fail(err, t.ref, signal);
    }
  }

  async readText(ref: ObjectRef, signal: AbortSignal): Promise<string | undefined> {
    checkKey(ref.key, '/source/url');
    const t = this.target(ref);
    try {
      const out = await t.container.getBlobClient(ref.key).download(0, undefined, { abortSignal: signal });
      return await text(out.readableStreamBody!);
    } catch (err) {
      // A missing marker is an answer; a missing container is not.
      if (!signal.aborted && azureError(err).code === 'BlobNotFound') return undefined;
      this.fail(err, t.ref, signal);
    }
  }

  async ping(signal: AbortSignal): Promise<void> {
    try {
      await this.service.getAccountInfo({ abortSignal: signal });
    } catch (err) {
      // Credentials limited to some containers may not read the account; an answer still proves reachability.
      const { status, code } = azureError(err);
      if (code === 'AuthorizationPermissionMismatch' || code === 'AuthorizationResourceTypeMismatch') return;
      if (signal.aborted) throw signal.reason;
      const where = `storage account ${this.account} at ${this.service.url}`;
      if (status === 401 || status === 403) {
        throw new IngestError('SOURCE_ACCESS_DENIED', `${where} refused the credentials (${code || status}); ${credentialsHint}`, { account: this.account, azureError: code || String(status) }, { cause: err });
      }
      const message = err instanceof Error ? err.message : String(err);
      throw new IngestError('SOURCE_UNAVAILABLE', `${where} did not answer: ${message}`, { account: this.account, azureError: code }, { cause: err });
    }
  }
}

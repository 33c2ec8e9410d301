// Which source serves a URL. A new scheme adds its parser in schemes.ts and its source to createSources
// here, and touches nothing else in the load path.
export { parseSourceUrl, sourceUrl } from './schemes.js';
import type { Config } from '../config.js';
import { IngestError } from '../errors.js';
import { schemeParser } from './schemes.js';
import { createS3Clients, s3Settings } from './s3/client.js';
import { S3Source } from './s3/source.js';
import { gsScheme } from './s3/url.js';
import { createAzureClient } from './azure/client.js';
import { AzureSource } from './azure/source.js';
import { FileSource } from './file/source.js';
import { defaultGcsEndpoint } from './gcs/settings.js';
import { HttpsSource } from './https/source.js';
import type { ObjectRef, ObjectSource } from './source.js';

/** The sources a running service has: one per configured scheme. */
export interface Sources {
  /** The source for a ref's scheme; SOURCE_NOT_CONFIGURED when the service has no settings for it. */
  for(ref: Pick<ObjectRef, 'scheme'>): ObjectSource;
  /** Every configured source (for /readyz). */
  readonly all: readonly ObjectSource[];
  close(): Promise<void>;
}

export function sourcesOf(list: readonly ObjectSource[]): Sources {
  const byScheme = new Map(list.map((s) => [s.scheme, s]));
  return {
    all: list,
    async close() {
      for (const source of list) await source.close?.();
    },
    for(ref) {
      const source = byScheme.get(ref.scheme);
      if (!source) {
        throw new IngestError('SOURCE_NOT_CONFIGURED', `this service has no ${ref.scheme}:// source configured; see docs/configuration.md`, {
          field: '/source/url',
          scheme: ref.scheme,
        });
      }
      return source;
    },
  };
}

/** The sources the configuration enables. S3 is always there (its settings default to AWS). */
export function createSources(config: Config): Sources {
  const list: ObjectSource[] = [
    new S3Source({
      parser: schemeParser('s3'),
      ...createS3Clients(s3Settings(config)),
      allowedBuckets: config.s3AllowedBuckets,
      allowSetting: 'S3_ALLOWED_BUCKETS',
      credentialsHint: 'check S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY and the bucket policy',
    }),
  ];
  const { gcs } = config.sources;
  if (gcs) {
    // Cloud Storage's XML API: HMAC keys sign like S3's; its region is "auto"; buckets are virtual hosts
    // on storage.googleapis.com, path-style on any other endpoint (an emulator, a proxy).
    const gcsSettings = { endpoint: gcs.endpoint, region: 'auto', accessKeyId: gcs.accessId, secretAccessKey: gcs.secret, forcePathStyle: gcs.endpoint !== defaultGcsEndpoint };
    list.push(new S3Source({
      parser: gsScheme,
      ...createS3Clients(gcsSettings),
      allowedBuckets: gcs.allowedBuckets,
      allowSetting: 'GCS_ALLOWED_BUCKETS',
      credentialsHint: 'check GCS_HMAC_ACCESS_ID / GCS_HMAC_SECRET (a service account HMAC key) and the bucket\'s IAM',
    }));
  }
  const { azure } = config.sources;
  if (azure) list.push(new AzureSource({ client: createAzureClient(azure), allowedContainers: azure.allowedContainers }));
  const { https, file } = config.sources;
  if (https) {
    list.push(new HttpsSource({ parser: schemeParser('https'), settings: https }));
    // Plain http:// only where HTTPS_ALLOW_PLAIN_HTTP says so (the source refuses it otherwise).
    list.push(new HttpsSource({ parser: schemeParser('http'), settings: https }));
  }
  if (file) list.push(new FileSource({ settings: file }));
  return sourcesOf(list);
}

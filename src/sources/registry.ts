// Which source serves a URL: the one table of schemes. A new scheme adds its parser to `parsers` and
// its source to createSources, and touches nothing else in the load path.
import type { Config } from '../config.js';
import { IngestError } from '../errors.js';
import { createS3Client, s3Settings } from './s3/client.js';
import { S3Source } from './s3/source.js';
import { s3Scheme } from './s3/url.js';
import type { ObjectRef, ObjectSource, SchemeParser } from './source.js';

/** Every scheme a spec may name, pure (no credentials): the API validates URLs with these. */
export const parsers: readonly SchemeParser[] = [s3Scheme];

function parserFor(url: string): SchemeParser | undefined {
  return parsers.find((p) => p.prefixes.some((prefix) => url.startsWith(prefix)));
}

/** The URL prefixes a source URL may start with, for messages and the JSON schema. */
export function sourcePrefixes(): string[] {
  return parsers.flatMap((p) => p.prefixes);
}

/** Parses any source URL; throws INVALID_SPEC naming `field` for an unknown scheme or a bad URL. */
export function parseSourceUrl(url: string, field = '/source/url'): ObjectRef {
  const parser = parserFor(url);
  if (!parser) {
    throw new IngestError('INVALID_SPEC', `${JSON.stringify(url)} is not a source URL this service reads; it must start with ${sourcePrefixes().join(', ')}`, {
      field,
      reason: `must start with ${sourcePrefixes().join(', ')}`,
    });
  }
  return parser.parse(url, field);
}

/** The URL of a ref, in its scheme's spelling. */
export function sourceUrl(ref: ObjectRef): string {
  const parser = parsers.find((p) => p.scheme === ref.scheme);
  if (!parser) throw new Error(`no source scheme ${ref.scheme}`);
  return parser.url(ref);
}

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
        throw new IngestError('SOURCE_NOT_CONFIGURED', `this service has no ${ref.scheme}:// source configured; see the README's configuration table`, {
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
      parser: s3Scheme,
      client: createS3Client(s3Settings(config)),
      allowedBuckets: config.s3AllowedBuckets,
      allowSetting: 'S3_ALLOWED_BUCKETS',
      credentialsHint: 'check S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY and the bucket policy',
    }),
  ];
  return sourcesOf(list);
}

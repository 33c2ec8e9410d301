// Every URL scheme a job's source may name, and the one parser each URL goes through (the API's checks,
// the CLI, the worker). Pure: no clients, no credentials.
import { IngestError } from '../errors.js';
import { azScheme } from './azure/url.js';
import { fileScheme } from './file/url.js';
import { httpScheme, httpsScheme } from './https/url.js';
import { gsScheme, s3Scheme } from './s3/url.js';
import type { ObjectRef, SchemeParser } from './source.js';

/** Every scheme a spec may name, pure (no credentials): the API validates URLs with these. */
export const parsers: readonly SchemeParser[] = [s3Scheme, gsScheme, azScheme, httpsScheme, httpScheme, fileScheme];

function parserFor(url: string): SchemeParser | undefined {
  return parsers.find((p) => p.prefixes.some((prefix) => url.startsWith(prefix)));
}

/** The URL prefixes a source URL may start with, for messages and the JSON schema. */
export function sourcePrefixes(): string[] {
  return parsers.flatMap((p) => p.prefixes);
}

/** What each scheme's URLs look like, for messages. */
export function sourceShapes(): string {
  return parsers.map((p) => p.shape).join(', ');
}

/** The parser of a scheme (the registry pairs it with its source). */
export function schemeParser(scheme: string): SchemeParser {
  const parser = parsers.find((p) => p.scheme === scheme);
  if (!parser) throw new Error(`no source scheme ${scheme}`);
  return parser;
}

/** Parses any source URL; throws INVALID_SPEC naming `field` for an unknown scheme or a bad URL. */
export function parseSourceUrl(url: string, field = '/source/url'): ObjectRef {
  const parser = parserFor(url);
  if (!parser) {
    throw new IngestError('INVALID_SPEC', `${JSON.stringify(url)} is not a source URL this service reads; write one of ${sourceShapes()} (a prefix ends in /)`, {
      field,
      reason: `must be one of ${sourceShapes()} (a prefix ends in /)`,
    });
  }
  return parser.parse(url, field);
}

/** The URL of a ref, in its scheme's spelling. */
export function sourceUrl(ref: ObjectRef): string {
  return schemeParser(ref.scheme).url(ref);
}

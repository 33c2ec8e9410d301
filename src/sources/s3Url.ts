// Source URLs: the one parser every s3:// URL goes through (the API's checks, the CLI, the worker), and
// the key rule that goes with it. Object stores and the proxies before them may resolve `.` and `..`
// in a request path, so a key holding such a segment could read another bucket than the one allowed:
// such keys are refused, in their percent-encoded spellings too (%2e%2e, %2E., %252e...).
import { IngestError } from '../errors.js';

export interface S3Location {
  bucket: string;
  /** The object key, or a prefix ending in `/`. */
  key: string;
}

// A bucket name as S3 allows it: 3-63 lower-case letters, digits, dots and hyphens.
const s3UrlShape = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/s;

/** Undoes percent-encoding of `%`, `.`, `/` and `\` until nothing changes (double encoding included). */
function unescapeDots(text: string): string {
  let s = text;
  for (;;) {
    const next = s.replace(/%(25|2e|2f|5c)/gi, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
    if (next === s) return s;
    s = next;
  }
}

/** The first `.` or `..` segment of a key (split at `/` and `\`, before and after unescaping), if any. */
export function dotSegment(key: string): string | undefined {
  for (const text of [key, unescapeDots(key)]) {
    const found = text.split(/[/\\]/).find((part) => part === '.' || part === '..');
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Parses `s3://bucket/key` (one object) or `s3://bucket/prefix/` (every object below it). Throws
 * INVALID_SPEC naming `field` for anything else, including a key with a dot segment.
 */
export function parseS3Url(url: string, field = '/source/url'): S3Location {
  const m = s3UrlShape.exec(url);
  if (!m) {
    throw new IngestError('INVALID_SPEC', `not an s3://bucket/key URL: ${JSON.stringify(url)}`, {
      field,
      reason: 'must be an s3://bucket/key URL (one object) or s3://bucket/prefix/ (every object under it)',
    });
  }
  const key = m[2]!;
  if (key === '') {
    throw new IngestError('INVALID_SPEC', `${JSON.stringify(url)} names a bucket but no key or prefix; write s3://bucket/key or s3://bucket/prefix/`, { field, reason: 'names no key or prefix' });
  }
  if (key.startsWith('/')) {
    throw new IngestError('INVALID_SPEC', `${JSON.stringify(url)}: the key starts with "/"; write s3://bucket/key`, { field, reason: 'has a key starting with "/"' });
  }
  checkKey(key, field);
  return { bucket: m[1]!, key };
}

/** Throws INVALID_SPEC naming `field` when a key (or a name joined to one) has a dot segment. */
export function checkKey(key: string, field: string): void {
  const dot = dotSegment(key);
  if (dot === undefined) return;
  throw new IngestError(
    'INVALID_SPEC',
    `${JSON.stringify(key)} has a ${JSON.stringify(dot)} path segment (or its percent-encoded form); object keys are taken literally and never resolved, so such keys are refused`,
    { field, reason: `has a "${dot}" path segment (or a percent-encoded one): refused, keys are never resolved` },
  );
}

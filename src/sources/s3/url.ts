// s3:// URLs, and gs:// ones (Cloud Storage through its S3-compatible API has the same shape):
// `scheme://bucket/key` for one object, `scheme://bucket/prefix/` for every object below it.
import { IngestError } from '../../errors.js';
import { checkKey } from '../keys.js';
import type { ObjectRef, SchemeParser } from '../source.js';

// A bucket name as S3 and Cloud Storage allow it: 3-63 lower-case letters, digits, dots, hyphens (and
// underscores for Cloud Storage).
const bucketUrl = (scheme: string): RegExp => new RegExp(`^${scheme}://([a-z0-9][a-z0-9._-]{1,61}[a-z0-9])/(.*)$`, 's');

export function bucketScheme(scheme: 's3' | 'gs'): SchemeParser {
  const shape = bucketUrl(scheme);
  return {
    scheme,
    prefixes: [`${scheme}://`],
    shape: `${scheme}://bucket/key`,
    parse(url: string, field: string): ObjectRef {
      const m = shape.exec(url);
      if (!m) {
        throw new IngestError('INVALID_SPEC', `not ${scheme === 's3' ? 'an' : 'a'} ${scheme}://bucket/key URL: ${JSON.stringify(url)}`, {
          field,
          reason: `must be a ${scheme}://bucket/key URL (one object) or ${scheme}://bucket/prefix/ (every object under it)`,
        });
      }
      const key = m[2]!;
      if (key === '') {
        throw new IngestError('INVALID_SPEC', `${JSON.stringify(url)} names a bucket but no key or prefix; write ${scheme}://bucket/key or ${scheme}://bucket/prefix/`, { field, reason: 'names no key or prefix' });
      }
      if (key.startsWith('/')) {
        throw new IngestError('INVALID_SPEC', `${JSON.stringify(url)}: the key starts with "/"; write ${scheme}://bucket/key`, { field, reason: 'has a key starting with "/"' });
      }
      checkKey(key, field);
      return { scheme, container: m[1]!, key };
    },
    url: (ref) => `${scheme}://${ref.container}/${ref.key}`,
  };
}

export const s3Scheme = bucketScheme('s3');
export const gsScheme = bucketScheme('gs');

// file:// URLs for mounted volumes (NFS, an HDFS NFS gateway, a Kubernetes volume): `file:///abs/path`
// for one file, `file:///abs/dir/` for every file below the directory. The key is the absolute path,
// percent-decoded; the container is "". Only the local host is meant, so `file://host/...` is refused.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IngestError } from '../../errors.js';
import { checkKey } from '../keys.js';
import type { ObjectRef, SchemeParser } from '../source.js';

const CONTROL = /[\u0000-\u001f\u007f]/;

function invalid(url: string, field: string, reason: string): IngestError {
  return new IngestError('INVALID_SPEC', `${JSON.stringify(url)}: ${reason}`, { field, reason });
}

export const fileScheme: SchemeParser = {
  scheme: 'file',
  prefixes: ['file://'],
  shape: 'file:///absolute/path',
  parse(url: string, field: string): ObjectRef {
    if (!url.startsWith('file://')) throw invalid(url, field, 'must be a file:///absolute/path URL');
    const rest = url.slice('file://'.length);
    if (!rest.startsWith('/')) {
      throw invalid(url, field, `names a host or a relative path; write file:///absolute/path (three slashes: file:// URLs name files on this host only)`);
    }
    if (CONTROL.test(url)) throw invalid(url, field, 'holds a control character');
    if (url.includes('?') || url.includes('#')) throw invalid(url, field, 'has a ? or #; percent-encode them in a path (%3F, %23)');
    // Before decoding and URL parsing, which would resolve "." and ".." silently; checkKey also catches %2e%2e.
    checkKey(rest, field);
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (err) {
      // An encoded "/" (%2F) is refused here: it would make one path segment two.
      throw invalid(url, field, `is not a file path URL (${(err as Error).message})`);
    }
    if (path.includes('\0')) throw invalid(url, field, 'holds a NUL byte (%00)');
    // Two spellings of one file would be two objects to the ledger.
    const key = path.replace(/\/{2,}/g, '/');
    checkKey(key, field);
    return { scheme: 'file', container: '', key };
  },
  url: (ref) => pathToFileURL(ref.key).href,
};

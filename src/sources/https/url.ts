// https:// URLs (and http:// ones, which the source refuses unless HTTPS_ALLOW_PLAIN_HTTP is set):
// `https://host[:port]/path` for one object. A path ending in "/" parses, but a web server cannot be
// listed, so the source refuses it at load time. Query strings and fragments are refused: they would
// take no part in the object's identity in the ledger, and a signed query string would end up in logs.
import { IngestError } from '../../errors.js';
import { checkKey } from '../keys.js';
import type { ObjectRef, SchemeParser } from '../source.js';

// Control characters, which URL parsing would silently drop (tab, newline) or keep encoded.
const CONTROL = /[\u0000-\u001f\u007f]/;

export function webScheme(scheme: 'https' | 'http'): SchemeParser {
  const prefix = `${scheme}://`;
  const invalid = (url: string, field: string, reason: string, message = `${JSON.stringify(url)}: ${reason}`): IngestError =>
    new IngestError('INVALID_SPEC', message, { field, reason });
  return {
    scheme,
    prefixes: [prefix],
    shape: `${prefix}host/path`,
    parse(url: string, field: string): ObjectRef {
      if (!url.startsWith(prefix)) throw invalid(url, field, `must be a ${prefix}host[:port]/path URL`);
      if (CONTROL.test(url)) throw invalid(url, field, 'holds a control character');
      if (url.includes('?') || url.includes('#')) {
        throw invalid(url, field, `has a query string or fragment; ${scheme}:// sources name an object by host and path only (percent-encode a literal ? as %3F, # as %23)`);
      }
      const rest = url.slice(prefix.length);
      // URL parsing reads "\" as "/" in http(s) URLs: the authority ends at either.
      const cut = rest.search(/[/\\]/);
      const authority = cut === -1 ? rest : rest.slice(0, cut);
      const rawPath = cut === -1 ? '' : rest.slice(cut + 1);
      if (authority.includes('@')) {
        throw invalid(url, field, 'carries credentials (user@ or user:password@); https sources read public objects only');
      }
      // Before URL parsing, which would resolve "." and ".." silently.
      checkKey(rawPath, field);
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw invalid(url, field, `is not a valid URL; write ${prefix}host[:port]/path`);
      }
      if (parsed.hostname === '') throw invalid(url, field, `names no host; write ${prefix}host[:port]/path`);
      // pathname is percent-encoded as it goes on the wire; the key keeps that spelling.
      const key = parsed.pathname.slice(1);
      if (key === '') throw invalid(url, field, `names a host but no path; write ${prefix}host[:port]/path`);
      checkKey(key, field);
      // host: lower-cased, IDN in punycode, IPv4 in dotted form, default port dropped.
      return { scheme, container: parsed.host, key };
    },
    url: (ref) => `${scheme}://${ref.container}/${ref.key}`,
  };
}

export const httpsScheme = webScheme('https');
export const httpScheme = webScheme('http');

// The key rule every scheme shares. Object stores, web servers and the proxies before them may resolve
// `.` and `..` in a request path, so a key holding such a segment could read another container than the
// one allowed: such keys are refused, in their percent-encoded spellings too (%2e%2e, %2E., %252e...).
import { IngestError } from '../errors.js';

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

/** Throws SOURCE_FORBIDDEN when `allowed` is not empty and does not hold `name`. */
export function checkAllowList(name: string, allowed: readonly string[], what: string, setting: string, field = '/source/url'): void {
  if (allowed.length === 0 || allowed.includes(name)) return;
  throw new IngestError('SOURCE_FORBIDDEN', `${what} ${name} is not in ${setting} (${allowed.join(', ')}); nothing was requested from it`, {
    field,
    [what]: name,
  });
}

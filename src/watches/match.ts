// Which watches an object event concerns, and what each makes of it: a watch whose prefix holds a new
// object starts a load of that object ("object"), or of the directory when the object is its marker
// ("marker"); a part file under a marker watch is matched and starts nothing (its marker will).
import picomatch from 'picomatch';
import { splitContainer } from '../sources/azure/url.js';
import { isBookkeeping } from '../sources/resolveSources.js';
import { parseSourceUrl, sourceUrl } from '../sources/registry.js';
import type { ObjectRef } from '../sources/source.js';
import type { WatchRow } from '../sql/watches.js';
import type { ObjectEvent } from './objectEvent.js';

export type Decision =
  /** The watch's prefix does not hold the object. */
  | { kind: 'outside' }
  /** The prefix holds it, but it starts nothing: not a creation, bookkeeping, or outside the pattern. */
  | { kind: 'ignored'; reason: string }
  /** A new object the watch is waiting on, that starts nothing itself (a part before its marker). */
  | { kind: 'matched' }
  /** Start a load of `url`; `objectKey` (the object's, or the marker's) with its version is what makes it one load. */
  | { kind: 'start'; url: string; objectKey: string };

/** The watch's prefix as a source ref. */
export function watchRef(watch: Pick<WatchRow, 'prefixUrl'>): ObjectRef {
  return parseSourceUrl(watch.prefixUrl, '/prefix');
}

/** True when the event's object lies under the prefix (an az:// prefix without an account takes any account). */
function holds(ref: ObjectRef, event: ObjectEvent): boolean {
  if (ref.scheme !== event.scheme || !event.key.startsWith(ref.key)) return false;
  if (ref.scheme !== 'az') return ref.container === event.bucket;
  const { account, container } = splitContainer(ref);
  return container === event.bucket && (account === undefined || event.account === undefined || account === event.account);
}

export function decide(watch: Pick<WatchRow, 'prefixUrl' | 'trigger' | 'marker' | 'spec'>, event: ObjectEvent): Decision {
  const ref = watchRef(watch);
  if (!holds(ref, event)) return { kind: 'outside' };
  if (!event.created) return { kind: 'ignored', reason: `${event.type} is not a new object` };
  const relative = event.key.slice(ref.key.length);
  if (relative === '' || relative.endsWith('/')) return { kind: 'ignored', reason: 'a folder, not an object' };
  if (watch.trigger === 'marker') {
    const marker = watch.marker!;
    if (relative !== marker && !relative.endsWith(`/${marker}`)) return { kind: 'matched' };
    const directory = relative.slice(0, relative.length - marker.length);
    if (directory !== '' && isBookkeeping(directory.slice(0, -1))) return { kind: 'ignored', reason: 'a marker inside a bookkeeping folder' };
    return { kind: 'start', url: sourceUrl({ ...ref, key: `${ref.key}${directory}` }), objectKey: event.key };
  }
  if (isBookkeeping(relative)) return { kind: 'ignored', reason: 'Spark or Hadoop bookkeeping (a name starting with _ or .)' };
  const pattern = watch.spec.source?.pattern;
  if (pattern && !picomatch(pattern, { dot: false })(relative)) return { kind: 'ignored', reason: `outside the pattern ${pattern}` };
  return { kind: 'start', url: sourceUrl({ ...ref, key: event.key }), objectKey: event.key };
}

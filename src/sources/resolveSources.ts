// Turns a job's source into the list of objects to load, for any scheme: one object, or every object
// under a prefix (a URL ending in /), paged through, minus Spark and Hadoop bookkeeping (any name or
// folder starting with `_` or `.`: _SUCCESS, _temporary/, .part-0000.csv.crc), filtered by an optional
// glob on the name below the prefix.
import picomatch from 'picomatch';
import { IngestError } from '../errors.js';
import { specDefaults, type JobSpec } from '../jobs/spec.js';
import { waitForMarker } from './marker.js';
import { parseSourceUrl, type Sources } from './registry.js';
import { mapLimit } from '../load/mapLimit.js';
import { isPrefix, type ObjectInfo, type ObjectRef, type ObjectSource } from './source.js';

/** True for names Spark and Hadoop write beside the data: never loaded. */
export function isBookkeeping(relativeKey: string): boolean {
  return relativeKey.split('/').some((part) => part.startsWith('_') || part.startsWith('.'));
}

export interface ResolveOptions {
  /** Called with how long the marker wait took. */
  onMarker?: (waitedMs: number, manifest: string[] | undefined) => void;
}

/** The source that serves a job's URL, after its allow-list has passed the URL. */
export function sourceFor(sources: Sources, url: string): ObjectSource {
  const ref = parseSourceUrl(url);
  const source = sources.for(ref);
  source.checkAllowed(ref);
  return source;
}

export async function resolveSources(sources: Sources, spec: JobSpec['source'], signal: AbortSignal, opts: ResolveOptions): Promise<ObjectInfo[]> {
  const loc = parseSourceUrl(spec.url);
  const source = sourceFor(sources, spec.url);
  if (!isPrefix(loc)) return [await source.head(loc, signal)];
  let manifest: string[] | undefined;
  if (spec.waitForMarker) {
    const marker = await waitForMarker(source, loc, spec.waitForMarker, spec.markerTimeoutSeconds ?? specDefaults.source.markerTimeoutSeconds, signal);
    manifest = marker.manifest;
    opts.onMarker?.(marker.waitedMs, manifest);
  }
  if (manifest && !source.listable) return headManifest(source, loc, spec, manifest, signal);
  if (!source.listable) {
    throw new IngestError('INVALID_SPEC', `${spec.url}: ${source.scheme}:// cannot list a prefix; load objects one by one, or set source.waitForMarker to a marker holding a manifest (S3A SuccessData "filenames") that names them`, {
      field: '/source/url',
      reason: `is a prefix, which ${source.scheme}:// cannot list`,
    });
  }
  const all = await source.list(loc, signal);
  if (manifest) {
    // The manifest is the committed output: exactly those files, each of which must be there.
    const byKey = new Map(all.map((o) => [o.key, o]));
    const missing = manifest.filter((k) => !byKey.has(k));
    if (missing.length > 0) {
      throw new IngestError(
        'MANIFEST_FILE_MISSING',
        `the manifest in ${source.url(loc)}${spec.waitForMarker} names ${missing.length} file(s) not under the prefix: ${missing.slice(0, 5).join(', ')}; nothing was loaded`,
        { url: spec.url, missing: missing.slice(0, 100) },
      );
    }
    return [...new Set(manifest)].sort().map((k) => byKey.get(k)!);
  }
  return matching(all, loc.key, spec);
}

/** A source without listing: each file the manifest names, looked up (a missing one fails the job). */
async function headManifest(source: ObjectSource, loc: ObjectRef, spec: JobSpec['source'], manifest: string[], signal: AbortSignal): Promise<ObjectInfo[]> {
  const keys = [...new Set(manifest)].sort();
  const found = await mapLimit(keys, 8, signal, async (key) => {
    try {
      return await source.head({ ...loc, key }, signal);
    } catch (err) {
      if ((err as IngestError).code === 'SOURCE_NOT_FOUND') return key;
      throw err;
    }
  });
  const missing = found.filter((f): f is string => typeof f === 'string');
  if (missing.length > 0) {
    throw new IngestError(
      'MANIFEST_FILE_MISSING',
      `the manifest in ${source.url(loc)}${spec.waitForMarker} names ${missing.length} file(s) not under the prefix: ${missing.slice(0, 5).join(', ')}; nothing was loaded`,
      { url: spec.url, missing: missing.slice(0, 100) },
    );
  }
  return found as ObjectInfo[];
}

/** The listed objects a job loads: bookkeeping left out, the glob applied, in key order. */
function matching(all: ObjectInfo[], prefix: string, spec: JobSpec['source']): ObjectInfo[] {
  const match = spec.pattern ? picomatch(spec.pattern, { dot: false }) : undefined;
  const objects = all
    .filter((o) => {
      const rel = o.key.slice(prefix.length);
      return !isBookkeeping(rel) && (!match || match(rel));
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (objects.length === 0) {
    throw new IngestError(
      'SOURCE_NOT_FOUND',
      `no objects to load under ${spec.url}${spec.pattern ? ` matching ${JSON.stringify(spec.pattern)}` : ''} (${all.length} listed, all Spark/Hadoop bookkeeping or filtered out)`,
      { url: spec.url, listed: all.length },
    );
  }
  return objects;
}

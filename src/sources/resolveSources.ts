// Turns a job's source into the objects to load, for any scheme: one object, or every object under a
// prefix (a URL ending in /), a page at a time as the store lists them, minus Spark and Hadoop
// bookkeeping (any name or folder starting with `_` or `.`: _SUCCESS, _temporary/, .part-0000.csv.crc),
// filtered by an optional glob on the name below the prefix. A marker's manifest is the exception: its
// files must all be there before anything loads, so that listing is checked whole first.
import picomatch from 'picomatch';
import { IngestError } from '../errors.js';
import { specDefaults, type JobSpec } from '../jobs/spec.js';
import { waitForMarker } from './marker.js';
import { parseSourceUrl, type Sources } from './registry.js';
import { mapLimit } from '../load/mapLimit.js';
import { Listing } from './listing.js';
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

/**
 * The job's objects as a Listing. For a prefix without a manifest, resolves once the first page holding
 * an object to load is listed (or fails SOURCE_NOT_FOUND when the whole listing holds none); the rest is
 * listed while the run loads.
 */
export async function resolveSources(sources: Sources, spec: JobSpec['source'], signal: AbortSignal, opts: ResolveOptions): Promise<Listing> {
  const loc = parseSourceUrl(spec.url);
  const source = sourceFor(sources, spec.url);
  if (!isPrefix(loc)) return Listing.collected([await source.head(loc, signal)]);
  let manifest: string[] | undefined;
  if (spec.waitForMarker) {
    const marker = await waitForMarker(source, loc, spec.waitForMarker, spec.markerTimeoutSeconds ?? specDefaults.source.markerTimeoutSeconds, signal);
    manifest = marker.manifest;
    opts.onMarker?.(marker.waitedMs, manifest);
  }
  if (manifest && !source.listable) return Listing.collected(await headManifest(source, loc, spec, manifest, signal));
  if (!source.listable) {
    throw new IngestError('INVALID_SPEC', `${spec.url}: ${source.scheme}:// cannot list a prefix; load objects one by one, or set source.waitForMarker to a marker holding a manifest (S3A SuccessData "filenames") that names them`, {
      field: '/source/url',
      reason: `is a prefix, which ${source.scheme}:// cannot list`,
    });
  }
  if (manifest) return Listing.collected(await listManifest(source, loc, spec, manifest, signal));
  const seen = { listed: 0 };
  const listing = await Listing.streamed(matching(source.list(loc, signal), loc.key, spec, seen));
  if (!listing) {
    throw new IngestError(
      'SOURCE_NOT_FOUND',
      `no objects to load under ${spec.url}${spec.pattern ? ` matching ${JSON.stringify(spec.pattern)}` : ''} (${seen.listed} listed, all Spark/Hadoop bookkeeping or filtered out)`,
      { url: spec.url, listed: seen.listed },
    );
  }
  return listing;
}

/**
 * The manifest is the committed output: exactly those files, each of which must be there before any
 * loads. The listing is paged through keeping only the files it names (as many as the manifest already
 * holds in memory), then checked.
 */
async function listManifest(source: ObjectSource, loc: ObjectRef, spec: JobSpec['source'], manifest: string[], signal: AbortSignal): Promise<ObjectInfo[]> {
  const named = new Set(manifest);
  const byKey = new Map<string, ObjectInfo>();
  for await (const page of source.list(loc, signal)) {
    for (const o of page) if (named.has(o.key)) byKey.set(o.key, o);
  }
  const missing = manifest.filter((k) => !byKey.has(k));
  if (missing.length > 0) throw manifestMissing(source, loc, spec, missing);
  return [...named].sort().map((k) => byKey.get(k)!);
}

function manifestMissing(source: ObjectSource, loc: ObjectRef, spec: JobSpec['source'], missing: string[]): IngestError {
  return new IngestError(
    'MANIFEST_FILE_MISSING',
    `the manifest in ${source.url(loc)}${spec.waitForMarker} names ${missing.length} file(s) not under the prefix: ${missing.slice(0, 5).join(', ')}; nothing was loaded`,
    { url: spec.url, missing: missing.slice(0, 100) },
  );
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
  if (missing.length > 0) throw manifestMissing(source, loc, spec, missing);
  return found as ObjectInfo[];
}

/**
 * The listed objects a job loads, page by page: bookkeeping left out, the glob applied, in the order
 * the source lists them (key order). `seen` counts every object listed, for the message when none is left.
 */
async function* matching(pages: AsyncIterable<ObjectInfo[]>, prefix: string, spec: JobSpec['source'], seen: { listed: number }): AsyncGenerator<ObjectInfo[]> {
  const match = spec.pattern ? picomatch(spec.pattern, { dot: false }) : undefined;
  for await (const page of pages) {
    seen.listed += page.length;
    yield page.filter((o) => {
      const rel = o.key.slice(prefix.length);
      return !isBookkeeping(rel) && (!match || match(rel));
    });
  }
}

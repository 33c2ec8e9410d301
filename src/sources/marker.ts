// Spark and Hadoop write `_SUCCESS` into an output directory once the job has committed. A load that
// waits for it never starts on a half-written directory. S3A committers write a JSON manifest into it
// (SuccessData, with `filenames`): then exactly those files are the output.
import { IngestError } from '../errors.js';
import { checkKey } from './keys.js';
import type { ObjectRef, ObjectSource } from './source.js';

export interface MarkerResult {
  /** Keys the manifest names (full object keys), or undefined when the marker holds no manifest. */
  manifest: string[] | undefined;
  waitedMs: number;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });

/** Polls for `prefix + name` (every 1 s, backing off to 10 s) until it exists or the timeout passes. */
export async function waitForMarker(
  source: ObjectSource,
  prefix: ObjectRef,
  name: string,
  timeoutSeconds: number,
  signal: AbortSignal,
): Promise<MarkerResult> {
  const marker: ObjectRef = { ...prefix, key: `${prefix.key}${name}` };
  checkKey(marker.key, '/source/waitForMarker');
  const started = performance.now();
  let delay = 1000;
  for (;;) {
    const text = await source.readText(marker, signal);
    if (text !== undefined) return { manifest: parseManifest(text, prefix.key), waitedMs: performance.now() - started };
    const waited = (performance.now() - started) / 1000;
    if (waited >= timeoutSeconds) {
      const url = source.url(marker);
      throw new IngestError('MARKER_TIMEOUT', `${url} did not appear within ${timeoutSeconds} s; nothing was loaded (is the Spark job still running?)`, {
        url,
        timeoutSeconds,
      });
    }
    await sleep(Math.min(delay, (timeoutSeconds - waited) * 1000 + 10), signal);
    delay = Math.min(delay * 2, 10_000);
  }
}

/** Reads an S3A SuccessData manifest; undefined for an empty or non-JSON marker. */
export function parseManifest(text: string, prefix: string): string[] | undefined {
  if (text.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const names = (doc as { filenames?: unknown }).filenames;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) return undefined;
  return names.map((n: string) => {
    // Entries may be full URLs (s3a://bucket/key, gs://bucket/key...), absolute paths (/key) or names relative to the prefix.
    const url = /^[a-z][a-z0-9+.-]*:\/\/[^/]+\/(.*)$/.exec(n);
    if (url) return url[1]!;
    if (n.startsWith('/')) return n.slice(1);
    return n.startsWith(prefix) ? n : `${prefix}${n}`;
  });
}

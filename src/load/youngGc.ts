// Frees the buffers a load reads, as it goes. Every socket read allocates a buffer of its own (64 KiB),
// which dies as soon as its bytes are in COPY; but V8 releases a buffer's memory only when it collects,
// and a load allocates so few JavaScript objects that young-generation collections are rare. Dead read
// buffers piled up to tens of MB until the external memory pushed V8 into a full mark-compact of the
// whole heap, ten or more times per 167 MB read, which was half of the loader's CPU (measured here:
// 0.2 s of 0.45 s per 1,000,000 rows). A young-generation collection every COLLECT_EVERY bytes read by
// the process frees them for a fraction of that, and keeps the memory they hold flat.
//
// The collection is V8's `gc({type: 'minor'})`, exposed with --expose-gc. A process started without
// that flag turns it on here (the flag only adds the `gc` function to new contexts); where that fails,
// nothing is collected by hand and V8 goes on as before.
//
// A worker also turns V8's incremental marking off (collectOldGenerationAtLimit, below): with the young
// generation collected this way, V8's trigger for marking the old generation fired over and over.
import v8 from 'node:v8';
import vm from 'node:vm';

/** Bytes read (by every load of the process together) between two young-generation collections. */
export const COLLECT_EVERY = 8 << 20;

type Gc = (options: { type: 'minor' | 'major' }) => void;

function findGc(): Gc | undefined {
  const exposed = (globalThis as { gc?: Gc }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as Gc) : undefined;
  } catch {
    return undefined;
  }
}

let gc: Gc | undefined | null = null;
let sinceLast = 0;

/** Counts bytes a load read; collects the young generation when COLLECT_EVERY have been read since the last time. */
export function noteBytesRead(bytes: number): void {
  sinceLast += bytes;
  if (sinceLast < COLLECT_EVERY) return;
  sinceLast = 0;
  if (gc === null) gc = findGc();
  gc?.({ type: 'minor' });
}

/**
 * Turns V8's incremental marking off for a process that loads files. The collections above keep the
 * young generation small and its survivors few, and a load allocates little on V8's heap: V8 then sizes
 * the old generation's headroom low (it grows the limit by how fast JavaScript allocates) while the young
 * generation grows back to its maximum, and its rule "start marking when the old generation's headroom
 * is smaller than the young generation" fired over and over: 10 to 25 full mark-compacts of a 40 MB heap
 * per 1,000,000 rows, none of which freed anything (39.4 MB -> 39.1 MB), and the loader's CPU went from
 * 0.35-0.45 s to 0.9-1.3 s (`--trace-gc`, issue #19). Without incremental marking the old generation
 * is collected when it reaches its limit, in one pause (tens of ms for the service's heap), which on a
 * load is rare: a load promotes a few KB per young collection. Called once when the worker starts.
 */
export function collectOldGenerationAtLimit(): void {
  v8.setFlagsFromString('--no-incremental-marking');
}

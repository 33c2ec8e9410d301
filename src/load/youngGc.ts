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

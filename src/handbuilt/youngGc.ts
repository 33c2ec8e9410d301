// Frees the buffers a load reads, as it goes. Every read (undici's, a file's, TLS's, the Azure SDK's,
// gunzip's output) allocates a buffer of its own, which dies as soon as its bytes are in COPY; but V8 releases a buffer's
// memory only when it collects, and a load allocates so few JavaScript objects that young-generation
// collections are rare. Dead read buffers piled up to tens of MB until the external memory pushed V8
// into a full mark-compact of the whole heap, ten or more times per 167 MB read, which was half of the
// loader's CPU (measured here: 0.2 s of 0.45 s per 1,000,000 rows). A young-generation collection every
// COLLECT_EVERY bytes read by the process frees them for a fraction of that, and keeps the memory they
// hold flat.
//
// The collection is V8's `gc({type: 'minor'})`, which exists only in a process started with --expose-gc
// (WORKER_NODE_FLAGS, below, on the worker's command line); without it nothing is collected by hand and
// V8 goes on as it would. CITUS_INGEST_PLAIN=gc turns the collections off in a process that has it.
import { handbuilt } from './switches.js';

/** Bytes read (by every load of the process together) between two young-generation collections. */
export const COLLECT_EVERY = 8 << 20;
type Gc = (options: { type: 'minor' | 'major' }) => void;

let sinceLast = 0;

function collect(type: 'minor' | 'major'): void {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (typeof gc === 'function' && handbuilt('gc')) gc({ type });
}

/** Counts bytes a load read; collects the young generation when COLLECT_EVERY have been read since the last time. */
export function noteBytesRead(bytes: number): void {
  sinceLast += bytes;
  if (sinceLast < COLLECT_EVERY) return;
  sinceLast = 0;
  collect('minor');
}

/**
 * One full collection at the end of a worker's start-up. Start-up (the modules, the migrations, the
 * clients) leaves about a quarter of the heap as garbage, and V8 does not collect the old generation
 * until it reaches its limit: the first load used to reach it and pay for start-up's garbage, a 40-60 ms
 * mark-compact of a 57 MB heap (`--trace-gc`: 57.6 -> 44.1 MB, issue #19) that later loads never saw.
 * Collected here, the pause falls in start-up, and the idle process holds 13 MB less. The process's CPU
 * over its life is the same: this moves the pause, it does not remove it.
 */
export function collectStartupGarbage(): void {
  collect('major');
}

/**
 * The node flags of a process that loads files: --expose-gc for the collections above, and V8's
 * incremental marking off. The collections above keep the
 * young generation small and its survivors few, and a load allocates little on V8's heap: V8 then sizes
 * the old generation's headroom low (it grows the limit by how fast JavaScript allocates) while the young
 * generation grows back to its maximum, and its rule "start marking when the old generation's headroom
 * is smaller than the young generation" fired over and over: 10 to 25 full mark-compacts of a 40 MB heap
 * per 1,000,000 rows, none of which freed anything (39.4 MB -> 39.1 MB), and the loader's CPU went from
 * 0.35-0.45 s to 0.9-1.3 s (`--trace-gc`, issue #19). Without incremental marking the old generation
 * is collected when it reaches its limit, in one pause (tens of ms for the service's heap).
 *
 * That limit was still tight. V8 grows it by a factor it derives from how fast JavaScript allocates in
 * the old generation; a load allocates there slowly (about 24 KB promoted per young collection, and
 * some compiled code), `--trace-gc-verbose` printed a factor of 1.1, and warm 1,000,000-row loads
 * reached the limit once per load: a 33-70 ms mark-compact of a 45 MB heap that freed 1-1.5 MB, plus
 * V8's helper threads (issue #19). A fixed factor of 2 (the old generation may grow to about twice what
 * the last full collection kept, as Go's default GOGC=100 has it) left one mark-compact in 5 to 8 warm
 * loads, for about 10 MB more peak RSS. V8 reads them at start: they go on the worker's command line
 * (package.json's `worker` script, deploy/k8s/worker.yaml), never on the API's.
 */
export const WORKER_NODE_FLAGS = ['--expose-gc', '--no-incremental-marking', '--heap-growing-percent=100'];

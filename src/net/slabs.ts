// The buffers a plain connection (http1.ts) or a file (sources/file/fileBody.ts) is read into, read over
// once their reader is done with them.
//
// Why: a fresh buffer per read costs more than the read. The kernel maps a fresh buffer's pages on
// first touch, one page fault per 4 KiB, and the collector frees the buffer later. What reused slabs
// saved per 1,000,000-row load (issue #19): docs/performance.md, "Page faults on fresh read buffers".
//
// The rule that keeps it safe: a slab is read over only when every view of it handed to a reader has
// been given back, each view once, by a reader that keeps no part of it (giveBack). A reader that never
// gives back (one that keeps what it reads, or does not know of this module) leaves its slabs to the
// collector, as before: nothing is read over under it. A view that is not a lent one (a copy, a
// concatenation, a TLS read) is ignored.

/** Bytes per slab. */
export const SLAB_BYTES = 1 << 20;
/** A read gets a fresh slab when less than this is left of the current one. */
export const MIN_READ_BYTES = 256 * 1024;
/** Spare slabs kept for later reads: the process's idle memory for them is at most this x SLAB_BYTES. */
export const SPARE_SLABS = 8;

interface Slab {
  readonly bytes: Buffer;
  /** Views handed to readers and not given back. */
  lent: number;
  /**
   * reading: a connection reads into it; retired: no more reads go into it, and it becomes spare once
   * nothing of it is lent; spare: waiting for a connection's reads.
   */
  state: 'reading' | 'retired' | 'spare';
}

/** Every slab, by its memory (a view of it shares its ArrayBuffer). */
const slabs = new WeakMap<ArrayBufferLike, Slab>();
/** Each lent view and the slab it is part of; a view leaves on its way back, so it comes back once. */
const lentViews = new WeakMap<Buffer, Slab>();
const spare: Slab[] = [];
/** Slabs allocated and slabs taken again from the spare ones, over the process's life. */
const counts = { made: 0, reused: 0 };

/** How many slabs were allocated, and how many reads went into a spare one instead. */
export function slabCounts(): { made: number; reused: number } {
  return { ...counts };
}

function retire(slab: Slab): void {
  slab.state = 'retired';
  if (slab.lent === 0 && spare.length < SPARE_SLABS) {
    slab.state = 'spare';
    spare.push(slab);
  }
}

function takeSlab(): Slab {
  const slab = spare.pop();
  if (slab) {
    slab.state = 'reading';
    counts.reused++;
    return slab;
  }
  counts.made++;
  const fresh: Slab = { bytes: Buffer.allocUnsafeSlow(SLAB_BYTES), lent: 0, state: 'reading' };
  slabs.set(fresh.bytes.buffer, fresh);
  return fresh;
}

/** Where one connection's or file's reads go: the rest of its current slab, then a spare or a new one. */
export class SlabReads {
  private slab: Slab | undefined;
  private used = 0;

  /** The buffer for the next read. */
  next(): Buffer {
    if (!this.slab || this.slab.bytes.length - this.used < MIN_READ_BYTES) {
      if (this.slab) retire(this.slab);
      this.slab = takeSlab();
      this.used = 0;
    }
    return this.slab.bytes.subarray(this.used);
  }

  /** `n` bytes were read into the buffer next() gave: they are used, and returned as a view. */
  filled(n: number): Buffer {
    const view = this.slab!.bytes.subarray(this.used, this.used + n);
    this.used += n;
    return view;
  }

  /** No more reads: the current slab becomes spare once its views are back. */
  close(): void {
    if (this.slab) retire(this.slab);
    this.slab = undefined;
  }
}

/**
 * `view` (part of a read into a slab still being read into) goes to a reader, who may give it back.
 * Anything not a slab's is ignored.
 */
export function lend(view: Buffer): void {
  const slab = slabs.get(view.buffer);
  if (!slab || lentViews.has(view)) return;
  // Lent after its slab was retired, a view could be read over while its reader holds it.
  if (slab.state !== 'reading') throw new Error(`a view of a ${slab.state} read buffer was lent`);
  lentViews.set(view, slab);
  slab.lent++;
}

/**
 * The reader is done with `chunk` and keeps no part of it: if it is a lent view, its bytes may be read
 * over once the rest of its slab is back too. Anything else is ignored.
 */
export function giveBack(chunk: Buffer): void {
  const slab = lentViews.get(chunk);
  if (!slab) return;
  lentViews.delete(chunk);
  slab.lent--;
  if (slab.state === 'retired') retire(slab);
}

// Where a chunk's line ends are, and whether each lies inside quotes: the byte scan under CsvFramer.
//
// A scanner reports every CR and LF byte of the bytes it is given as an event (the byte's position
// times two, plus one when it is inside a quoted field), and carries the quote state from one call to
// the next. When the escape character is the quote character (CSV's own rule, and COPY's default),
// only the parity of the quotes matters and a WebAssembly SIMD module does the work 64 bytes at a
// time (wasm/lineEnds.ts). A distinct escape character needs a byte-by-byte walk, done here.
import { LINE_ENDS_WASM } from './lineEndsWasm.js';

const LF = 0x0a;
const CR = 0x0d;
const PAGE = 65536;

export interface LineEndScanner {
  /** Scans data[from, to), continuing the quote state of the last call. Returns how many events it wrote. */
  scan(data: Buffer, from: number, to: number): number;
  /** The events of the last scan, valid until the next one. */
  readonly events: Int32Array;
  /** Quote state after the last scan. */
  readonly inQuote: boolean;
}

interface LineEndsExports {
  memory: WebAssembly.Memory;
  scan(input: number, len: number, events: number, inQuote: number, quote: number, base: number): number;
  endedInQuote: WebAssembly.Global;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled SIMD module, or null where this runtime cannot run it. */
function wasmModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(LINE_ENDS_WASM, 'base64');
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

/** Quote parity with SIMD, for quote === escape. Input is copied into the module's memory slice by slice. */
class WasmScanner implements LineEndScanner {
  private readonly fn: LineEndsExports;
  private readonly quote: number;
  private bytes = new Uint8Array(0);
  private capacity = 0;
  events = new Int32Array(0);
  inQuote = false;

  constructor(module: WebAssembly.Module, quote: number) {
    this.fn = new WebAssembly.Instance(module, {}).exports as unknown as LineEndsExports;
    this.quote = quote;
  }

  /** Room for `len` input bytes at 0 and `len` events after them. */
  private reserve(len: number): void {
    if (len <= this.capacity) return;
    // A multiple of 64: the events that follow the input are an Int32Array, which must start 4-aligned
    // (a 70,001-byte read once made it throw), and the scan takes 64 bytes a step.
    const capacity = Math.max(Math.ceil(len / 64) * 64, 64 * 1024);
    const need = capacity * 5;
    const have = this.fn.memory.buffer.byteLength;
    if (need > have) this.fn.memory.grow(Math.ceil((need - have) / PAGE));
    this.capacity = capacity;
    this.bytes = new Uint8Array(this.fn.memory.buffer, 0, capacity);
    this.events = new Int32Array(this.fn.memory.buffer, capacity, capacity);
  }

  scan(data: Buffer, from: number, to: number): number {
    const len = to - from;
    this.reserve(len);
    this.bytes.set(data.subarray(from, to), 0);
    const count = this.fn.scan(0, len, this.capacity, this.inQuote ? 1 : 0, this.quote, from);
    this.inQuote = this.fn.endedInQuote.value === 1;
    return count;
  }
}

/**
 * Byte by byte, with COPY's CSV rules (copyfromparse.c): the quote toggles "inside quotes"; inside
 * quotes an escape character that differs from the quote makes the next quote or escape literal.
 * The reference for the SIMD scanner, and the scanner for a distinct escape character.
 */
export class ByteScanner implements LineEndScanner {
  private readonly quote: number;
  private readonly escape: number;
  private lastWasEscape = false;
  events = new Int32Array(0);
  inQuote = false;

  constructor(quote: number, escape: number) {
    this.quote = quote;
    this.escape = escape;
  }

  scan(data: Buffer, from: number, to: number): number {
    if (this.events.length < to - from) this.events = new Int32Array(Math.max(to - from, 64 * 1024));
    const events = this.events;
    const quote = this.quote;
    const escape = this.escape;
    const sameEscape = quote === escape;
    let inQuote = this.inQuote;
    let lastWasEscape = this.lastWasEscape;
    let count = 0;
    for (let i = from; i < to; i++) {
      const c = data[i]!;
      if (c === LF || c === CR) {
        events[count++] = (i << 1) | (inQuote ? 1 : 0);
        lastWasEscape = false;
      } else if (sameEscape) {
        if (c === quote) inQuote = !inQuote;
      } else {
        if (inQuote && c === escape) lastWasEscape = !lastWasEscape;
        if (c === quote && !lastWasEscape) inQuote = !inQuote;
        if (c !== escape) lastWasEscape = false;
      }
    }
    this.inQuote = inQuote;
    this.lastWasEscape = lastWasEscape;
    return count;
  }
}

/** The fastest scanner for the dialect: SIMD when the escape is the quote and the runtime runs it. */
export function lineEndScanner(quote: number, escape: number, opts: { simd?: boolean } = {}): LineEndScanner {
  const module = quote === escape && opts.simd !== false ? wasmModule() : null;
  return module ? new WasmScanner(module, quote) : new ByteScanner(quote, escape);
}

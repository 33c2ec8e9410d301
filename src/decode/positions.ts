// Where records sit: in a decoder's output (for COPY's line numbers, batch bisection and chunk cuts)
// and in the source (for rejects). Shared by every decoder and by the sinks that consume them.

/** Where a data record sits, in a decoder's output and in the original file. */
export interface RecordMeta {
  /** Output offset just past this record (and its line end). */
  end: number;
  /** Line in the original file (from 1) on which the record starts. */
  line: number;
  /** Byte offset in the original (decompressed) file at which the record starts. */
  offset: number;
}

/**
 * The RecordMeta of many records, three numbers each in one typed array. An object per record made
 * the heap grow by megabytes with every batch of a batch-mode load (40 MB more heap than the fast
 * path over 1,000,000 records): the objects outlived young-generation collections and waited for a
 * full one. Offsets are float64, exact far past 4 GB.
 */
export class RecordPositions {
  length = 0;
  private data: Float64Array;

  constructor(capacity = 1024) {
    this.data = new Float64Array(Math.max(1, capacity) * 3);
  }

  push(end: number, line: number, offset: number): void {
    const i = this.length * 3;
    if (i + 3 > this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[i] = end;
    this.data[i + 1] = line;
    this.data[i + 2] = offset;
    this.length++;
  }

  end(i: number): number {
    return this.data[i * 3]!;
  }

  line(i: number): number {
    return this.data[i * 3 + 1]!;
  }

  offset(i: number): number {
    return this.data[i * 3 + 2]!;
  }

  at(i: number): RecordMeta {
    return { end: this.end(i), line: this.line(i), offset: this.offset(i) };
  }

  /** Removes the first `n` records and returns them as a list of their own. */
  shift(n: number): RecordPositions {
    const head = new RecordPositions(n);
    head.data.set(this.data.subarray(0, n * 3));
    head.length = n;
    this.data.copyWithin(0, n * 3, this.length * 3);
    this.length -= n;
    return head;
  }

  clear(): void {
    this.length = 0;
  }
}

/** A point between two records where a chunk ends. */
export interface Cut {
  /** Output offset of the cut. */
  out: number;
  /** Original byte offset of the cut (where the next record starts). */
  offset: number;
  /** Original line on which the next record starts. */
  line: number;
  /** Data records given out before the cut. */
  records: number;
}


/**
 * Where chunked loading cuts, one rule for every decoder: after the first record (or Parquet row
 * group) that ends at or past each multiple of `every` bytes of the original file. The cuts depend on
 * the content only, so a retry cuts the same way. Without `every`, never.
 */
export class CutRule {
  private next: number;

  constructor(private readonly every: number | undefined) {
    this.next = every ?? Number.POSITIVE_INFINITY;
  }

  /** True when a record ending at file offset `end` is followed by a cut; the next one is then due further on. */
  due(end: number): boolean {
    if (end < this.next) return false;
    this.next = (Math.floor(end / this.every!) + 1) * this.every!;
    return true;
  }
}

// One data page of a flat column (a top-level field, no repetition), read into typed arrays that are
// reused page after page: the definition levels and, for a dictionary-encoded page, the dictionary
// indexes. hyparquet's own page reader gives both as JavaScript arrays of a new one per page; at
// 100,000 rows a page those are 800 KB each, in V8's large-object space, which only a full
// collection frees: they were most of what a Parquet load kept in memory between collections.
// Pages of other encodings (delta, byte-stream-split, RLE booleans) go through hyparquet's reader.
import type { DecodedArray, PageHeader } from 'hyparquet';
import type { ColumnDecoder } from 'hyparquet/src/types.js';
import { readDataPage, readDataPageV2, decompressPage } from 'hyparquet/src/datapage.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { IngestError } from '../../errors.js';

export interface FlatPage {
  /** Rows in the page. */
  rows: number;
  /** Definition levels, one per row; undefined when no row is null. Valid until the next read. */
  levels: ArrayLike<number> | undefined;
  /**
   * The values of the rows that are not null, in order: dictionary indexes when `indexed`. For plain
   * byte arrays, the page's bytes, with each value's place in `starts` and `lengths`.
   */
  values: DecodedArray;
  indexed: boolean;
  starts?: Int32Array;
  lengths?: Int32Array;
}

/** Values [a, b) of `page` as hyparquet's converter takes them (a view where they are typed). */
export function rawValues(page: FlatPage, a: number, b: number): DecodedArray {
  if (page.starts && page.lengths) {
    const bytes = page.values as Uint8Array;
    const out = new Array<Uint8Array>(b - a);
    for (let i = a; i < b; i++) out[i - a] = bytes.subarray(page.starts[i]!, page.starts[i]! + page.lengths[i]!);
    return out;
  }
  const v = page.values;
  return ArrayBuffer.isView(v) ? (v as Int32Array).subarray(a, b) : (v as unknown[]).slice(a, b);
}

const bitWidth = (value: number): number => 32 - Math.clz32(value);

export class FlatPageReader {
  private levelBuf = new Uint8Array(0);
  private indexBuf = new Int32Array(0);
  private startBuf = new Int32Array(0);
  private lengthBuf = new Int32Array(0);

  constructor(
    private readonly decoder: ColumnDecoder,
    /** The column's maximum definition level: 0 (required) or 1 (optional). */
    private readonly maxLevel: number,
  ) {}

  /**
   * Reads the data page `header` whose bytes (as stored, compressed) are `bytes`. `dictionary`: the
   * column chunk's dictionary, if it has one (its indexes are kept as they are, not looked up).
   */
  read(header: PageHeader, bytes: Uint8Array, dictionary: boolean): FlatPage {
    if (header.type === 'DATA_PAGE_V2' && header.data_page_header_v2) {
      const h = header.data_page_header_v2;
      if (h.repetition_levels_byte_length === 0 && this.handles(h.encoding, dictionary)) {
        const reader = { view: view(bytes), offset: 0 };
        const levels = h.num_nulls > 0 ? this.levels(reader, h.num_values, h.definition_levels_byte_length) : undefined;
        const valueBytes = bytes.subarray(h.definition_levels_byte_length);
        const size = Number(header.uncompressed_page_size) - h.definition_levels_byte_length;
        const page = h.is_compressed !== false && size > 0 ? decompressPage(valueBytes, size, this.decoder.codec, this.decoder.compressors) : valueBytes;
        return this.values(page, h.encoding, h.num_values, h.num_values - h.num_nulls, levels);
      }
      const { definitionLevels, dataPage } = readDataPageV2(bytes, header, this.decoder);
      return { rows: h.num_rows, levels: definitionLevels?.length ? definitionLevels : undefined, values: dataPage, indexed: dictionary && h.encoding.endsWith('_DICTIONARY') };
    }
    if (header.type === 'DATA_PAGE' && header.data_page_header) {
      const h = header.data_page_header;
      const page = decompressPage(bytes, Number(header.uncompressed_page_size), this.decoder.codec, this.decoder.compressors);
      if (this.handles(h.encoding, dictionary)) {
        const reader = { view: view(page), offset: 0 };
        let levels: Uint8Array | undefined;
        let present = h.num_values;
        if (this.maxLevel > 0) {
          levels = this.levels(reader, h.num_values, undefined);
          for (let i = 0; i < levels.length; i++) if (levels[i]! < this.maxLevel) present--;
          if (present === h.num_values) levels = undefined;
        }
        return this.values(page.subarray(reader.offset), h.encoding, h.num_values, present, levels);
      }
      const { definitionLevels, dataPage } = readDataPage(page, h, this.decoder);
      return { rows: h.num_values, levels: definitionLevels?.length ? definitionLevels : undefined, values: dataPage, indexed: dictionary && h.encoding.endsWith('_DICTIONARY') };
    }
    throw new IngestError('SOURCE_CORRUPT', `Parquet column ${this.decoder.pathInSchema.join('.')} has a page of type ${header.type} among its data pages`);
  }

  private handles(encoding: string, dictionary: boolean): boolean {
    return encoding === 'PLAIN' || (dictionary && encoding.endsWith('_DICTIONARY'));
  }

  /** The definition levels of `rows` rows: `length` bytes of RLE (undefined: a 4-byte length first). */
  private levels(reader: { view: DataView; offset: number }, rows: number, length: number | undefined): Uint8Array {
    if (this.levelBuf.length < rows) this.levelBuf = new Uint8Array(Math.max(rows, 2 * this.levelBuf.length));
    const levels = this.levelBuf.subarray(0, rows);
    readRleBitPackedHybrid(reader, bitWidth(this.maxLevel), levels, length);
    return levels;
  }

  private byteArrays(page: Uint8Array, rows: number, present: number, levels: Uint8Array | undefined): FlatPage {
    if (this.startBuf.length < present) {
      this.startBuf = new Int32Array(Math.max(present, 2 * this.startBuf.length));
      this.lengthBuf = new Int32Array(this.startBuf.length);
    }
    const v = view(page);
    let at = 0;
    for (let i = 0; i < present; i++) {
      const length = at + 4 <= page.length ? v.getUint32(at, true) : -1;
      if (length < 0 || at + 4 + length > page.length) {
        throw new IngestError('SOURCE_CORRUPT', `Parquet column ${this.decoder.pathInSchema.join('.')} has a page shorter than its values`);
      }
      this.startBuf[i] = at + 4;
      this.lengthBuf[i] = length;
      at += 4 + length;
    }
    return { rows, levels, values: page, indexed: false, starts: this.startBuf, lengths: this.lengthBuf };
  }

  private values(page: Uint8Array, encoding: string, rows: number, present: number, levels: Uint8Array | undefined): FlatPage {
    const reader = { view: view(page), offset: 0 };
    if (encoding === 'PLAIN' && this.decoder.type === 'BYTE_ARRAY') return this.byteArrays(page, rows, present, levels);
    if (encoding === 'PLAIN') {
      return { rows, levels, values: readPlain(reader, this.decoder.type, present, this.decoder.element.type_length), indexed: false };
    }
    if (this.indexBuf.length < present) this.indexBuf = new Int32Array(Math.max(present, 2 * this.indexBuf.length));
    const indexes = this.indexBuf.subarray(0, present);
    const width = present > 0 ? page[reader.offset++]! : 0;
    if (width === 0) indexes.fill(0);
    else readRleBitPackedHybrid(reader, width, indexes, page.length - reader.offset);
    return { rows, levels, values: indexes, indexed: true };
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

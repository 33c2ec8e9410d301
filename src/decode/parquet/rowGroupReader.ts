// Decodes the mapped columns of one row group from its bytes in memory, synchronously (push() is
// synchronous, and hyparquet's parquetRead only answers through promises). Built on hyparquet's own
// page reader (readColumn) and nested assembly (assembleNested), which its package exports as
// `hyparquet/src/*.js`.
import type { ColumnMetaData, DecodedArray, ParquetParsers, RowGroup } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { assembleNested } from 'hyparquet/src/assemble.js';
import { readColumn, readPage } from 'hyparquet/src/column.js';
import { getMaxDefinitionLevel } from 'hyparquet/src/schema.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { IngestError } from '../../errors.js';
import { flatten } from 'hyparquet/src/utils.js';
import { FlatPageReader, rawValues, type FlatPage } from './flatPage.js';
import { checkedHeader, checkPages, type ChunkPlace } from './pageHeaders.js';
import type { RecordLimit } from '../recordLimit.js';
import type { MappedColumn } from './parquetColumns.js';
import { textParsers } from './parquetText.js';

const parsers: ParquetParsers = { ...DEFAULT_PARSERS, ...textParsers };

/** Where a column chunk's bytes are in the file: [start, end). */
export function chunkRange(meta: ColumnMetaData): { start: number; end: number } {
  // A dictionary page, when there is one, comes first (some writers store offset 0 for "none").
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  return { start, end: start + Number(meta.total_compressed_size) };
}

/** What hyparquet's page reader needs to know of a leaf column. */
function columnDecoder(meta: ColumnMetaData, leaf: MappedColumn['leaves'][number]) {
  return {
    pathInSchema: meta.path_in_schema,
    type: meta.type,
    element: leaf.schemaPath[leaf.schemaPath.length - 1]!.element,
    schemaPath: leaf.schemaPath,
    codec: meta.codec,
    parsers,
    compressors,
    // Unannotated BYTE_ARRAY is binary (bytea); strings are annotated (UTF8 / STRING).
    utf8: false,
  };
}

function chunkOf(group: RowGroup, key: string): ColumnMetaData {
  const meta = group.columns.find((c) => c.meta_data?.path_in_schema.join('.') === key)?.meta_data;
  if (!meta) throw new IngestError('SOURCE_CORRUPT', `Parquet row group has no column chunk for ${key}`);
  return meta;
}

/**
 * A flat column of one row group, read a page at a time as the rows are given out: memory holds the
 * dictionary and one page of each column, whatever the row group's size. A page is kept as hyparquet
 * stores it (definition levels, and the values that are not null, as dictionary indexes when the page
 * is dictionary-encoded; flatPage.ts) rather than assembled into one value per row: that assembly
 * (hyparquet's assembleLists) and the dictionary lookup made two more arrays per page, and were 26%
 * of what the benchmark's 1,000,000-row load allocated (417 of 1,605 MB, V8's allocation sampler).
 * Rows are taken in order, one call each: valueAt(r) for r = 0, 1, 2, ...
 */
export class PageCursor {
  private start = 0;
  private end = 0;
  /** The row take() gives first next time, and the index of the first value not yet given. */
  private next = 0;
  private vi = 0;
  private page: FlatPage | undefined;
  private dictionary: DecodedArray | undefined;
  private readonly maxLevel: number;
  private readonly pages: FlatPageReader;
  private readonly reader: { view: DataView; offset: number };
  private readonly decoder: ReturnType<typeof columnDecoder>;
  private readonly place: ChunkPlace;

  constructor(bytes: Uint8Array, base: number, group: RowGroup, column: MappedColumn, limit: RecordLimit) {
    const leaf = column.leaves[0]!;
    const meta = chunkOf(group, leaf.path.join('.'));
    const { start, end } = chunkRange(meta);
    this.place = { column: leaf.path.join('.'), start, limit };
    this.reader = { view: new DataView(bytes.buffer, bytes.byteOffset + start - base, end - start), offset: 0 };
    this.decoder = columnDecoder(meta, leaf);
    this.maxLevel = getMaxDefinitionLevel(leaf.schemaPath);
    this.pages = new FlatPageReader(this.decoder, this.maxLevel);
  }

  /**
   * The values of `n` rows from row `r` of the group (null for NULL), converted as hyparquet converts
   * them; `r` is the row after the last one given. Only these rows' values are converted, so what a
   * page holds stays as stored until its rows are taken.
   */
  take(r: number, n: number): unknown[] {
    if (r !== this.next) throw new Error(`Parquet column ${this.decoder.pathInSchema.join('.')}: row ${r} asked for after row ${this.next - 1}`);
    const out = new Array<unknown>(n);
    let i = 0;
    while (i < n) {
      const row = r + i;
      while (row >= this.end) this.readPage(row);
      const page = this.page!;
      const m = Math.min(n - i, this.end - row);
      const levels = page.levels;
      let present = m;
      if (levels) {
        present = 0;
        for (let j = row - this.start, e = j + m; j < e; j++) if (levels[j]! >= this.maxLevel) present++;
      }
      const values = page.indexed ? undefined : convert(rawValues(page, this.vi, this.vi + present), this.decoder);
      const lookup = this.dictionary;
      let v = 0;
      for (let j = 0; j < m; j++) {
        if (levels && levels[row - this.start + j]! < this.maxLevel) {
          out[i + j] = null;
        } else if (values) {
          out[i + j] = values[v++];
        } else {
          out[i + j] = lookup![(page.values as ArrayLike<number>)[this.vi + v++]!];
        }
      }
      this.vi += present;
      i += m;
    }
    this.next = r + n;
    return out;
  }

  private readPage(r: number): void {
    const reader = this.reader;
    if (reader.offset >= reader.view.byteLength - 1) {
      throw new IngestError('SOURCE_CORRUPT', `Parquet column ${this.decoder.pathInSchema.join('.')} ends before row ${r} of its row group`);
    }
    const header = checkedHeader(reader, this.place);
    if (header.type === 'DICTIONARY_PAGE') {
      const { data } = readPage(reader, header, this.decoder, undefined, undefined, 0);
      if (data) this.dictionary = convert(data, this.decoder);
      return;
    }
    const bytes = new Uint8Array(reader.view.buffer, reader.view.byteOffset + reader.offset, header.compressed_page_size);
    reader.offset += header.compressed_page_size;
    this.page = this.pages.read(header, bytes, this.dictionary !== undefined);
    this.vi = 0;
    this.start = this.end;
    this.end = this.start + this.page.rows;
  }
}

/**
 * The values of `column` in row group `group` (its first row is the file's row `firstRow`), read from
 * `bytes`, which hold the file from offset `base` on. One value per row (null for NULL). Its pages'
 * headers are checked against `limit` first (pageHeaders.ts).
 */
export function readGroupColumn(bytes: Uint8Array, base: number, group: RowGroup, firstRow: number, column: MappedColumn, limit: RecordLimit): DecodedArray {
  const rows = Number(group.num_rows);
  const select = { groupStart: firstRow, selectStart: 0, selectEnd: rows, groupRows: rows };
  const leafData = new Map<string, DecodedArray>();
  for (const leaf of column.leaves) {
    const key = leaf.path.join('.');
    const meta = chunkOf(group, key);
    const { start, end } = chunkRange(meta);
    const reader = { view: new DataView(bytes.buffer, bytes.byteOffset + start - base, end - start), offset: 0 };
    const decoder = columnDecoder(meta, leaf);
    checkPages(reader.view, { column: key, start, limit });
    leafData.set(key, flatten(readColumn(reader, select, decoder).data));
  }
  if (!column.nested) return leafData.get(column.leaves[0]!.path.join('.'))!;
  const node = column.leaves[0]!.schemaPath[1]!;
  assembleNested(leafData, node, parsers);
  const values = leafData.get(column.name);
  if (!values) throw new Error(`Parquet field ${column.name} could not be assembled`);
  return values;
}

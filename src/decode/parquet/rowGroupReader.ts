// Decodes the mapped columns of one row group from its bytes in memory, synchronously (push() is
// synchronous, and hyparquet's parquetRead only answers through promises). Built on hyparquet's own
// page reader (readColumn) and nested assembly (assembleNested), which its package exports as
// `hyparquet/src/*.js`.
import type { ColumnMetaData, DecodedArray, ParquetParsers, RowGroup } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { assembleNested } from 'hyparquet/src/assemble.js';
import { parquetHeader, readColumn, readPage } from 'hyparquet/src/column.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { IngestError } from '../../errors.js';
import { flatten } from 'hyparquet/src/utils.js';
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
 * dictionary and one decoded page of each column, whatever the row group's size. Rows
 * [start, end) of the group are `values[r - start]`.
 */
export class PageCursor {
  start = 0;
  end = 0;
  values: DecodedArray = [];
  private dictionary: DecodedArray | undefined;
  private readonly reader: { view: DataView; offset: number };
  private readonly decoder: ReturnType<typeof columnDecoder>;

  constructor(bytes: Uint8Array, base: number, group: RowGroup, column: MappedColumn) {
    const leaf = column.leaves[0]!;
    const meta = chunkOf(group, leaf.path.join('.'));
    const { start, end } = chunkRange(meta);
    this.reader = { view: new DataView(bytes.buffer, bytes.byteOffset + start - base, end - start), offset: 0 };
    this.decoder = columnDecoder(meta, leaf);
  }

  /** Reads pages until row `r` of the group is among `values`. */
  advanceTo(r: number): void {
    while (r >= this.end) {
      if (this.reader.offset >= this.reader.view.byteLength - 1) {
        throw new IngestError('SOURCE_CORRUPT', `Parquet column ${this.decoder.pathInSchema.join('.')} ends before row ${r} of its row group`);
      }
      const header = parquetHeader(this.reader);
      const { data } = readPage(this.reader, header, this.decoder, this.dictionary, undefined, 0);
      if (header.type === 'DICTIONARY_PAGE') {
        if (data) this.dictionary = convert(data, this.decoder);
        continue;
      }
      this.start = this.end;
      this.values = data ?? [];
      this.end = this.start + this.values.length;
    }
  }
}

/**
 * The values of `column` in row group `group` (its first row is the file's row `firstRow`), read from
 * `bytes`, which hold the file from offset `base` on. One value per row (null for NULL).
 */
export function readGroupColumn(bytes: Uint8Array, base: number, group: RowGroup, firstRow: number, column: MappedColumn): DecodedArray {
  const rows = Number(group.num_rows);
  const select = { groupStart: firstRow, selectStart: 0, selectEnd: rows, groupRows: rows };
  const leafData = new Map<string, DecodedArray>();
  for (const leaf of column.leaves) {
    const key = leaf.path.join('.');
    const meta = chunkOf(group, key);
    const { start, end } = chunkRange(meta);
    const reader = { view: new DataView(bytes.buffer, bytes.byteOffset + start - base, end - start), offset: 0 };
    const decoder = columnDecoder(meta, leaf);
    leafData.set(key, flatten(readColumn(reader, select, decoder).data));
  }
  if (!column.nested) return leafData.get(column.leaves[0]!.path.join('.'))!;
  const node = column.leaves[0]!.schemaPath[1]!;
  assembleNested(leafData, node, parsers);
  const values = leafData.get(column.name);
  if (!values) throw new Error(`Parquet field ${column.name} could not be assembled`);
  return values;
}

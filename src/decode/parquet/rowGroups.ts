// Where a Parquet file's row groups are, from its footer: each group's byte range (from its first
// column chunk to the end of its last) and its rows' place among the file's rows. ParquetDecoder
// streams the groups in this order and names a row by its group.
import type { FileMetaData } from 'hyparquet';
import { IngestError } from '../../errors.js';
import { chunkRange } from './rowGroupReader.js';

/** A row group's place in the file and among the rows. */
export interface Group {
  start: number;
  end: number;
  firstRow: number;
  rows: number;
}

/**
 * The row groups of a file of `size` bytes, in order. Throws SOURCE_CORRUPT for a group in another
 * file, without column metadata, out of order or outside the file.
 */
export function rowGroupsOf(metadata: FileMetaData, size: number): Group[] {
  const groups: Group[] = [];
  let firstRow = 0;
  for (const [i, group] of metadata.row_groups.entries()) {
    let start = Number.POSITIVE_INFINITY;
    let end = 0;
    for (const chunk of group.columns) {
      if (chunk.file_path) throw new IngestError('SOURCE_CORRUPT', `Parquet row group ${i} is in another file (${chunk.file_path}); not supported`);
      if (!chunk.meta_data) throw new IngestError('SOURCE_CORRUPT', `Parquet row group ${i} has a column chunk without metadata (encrypted?)`);
      const r = chunkRange(chunk.meta_data);
      start = Math.min(start, r.start);
      end = Math.max(end, r.end);
    }
    const rows = Number(group.num_rows);
    if (group.columns.length === 0) start = end = groups.at(-1)?.end ?? 4;
    if (end > size || start < (groups.at(-1)?.end ?? 4)) {
      throw new IngestError('SOURCE_CORRUPT', `Parquet row group ${i} is out of order or outside the file (bytes ${start}-${end} of ${size})`);
    }
    groups.push({ start, end, firstRow, rows });
    firstRow += rows;
  }
  return groups;
}

/** The index of the group that holds the file's row `absoluteRow` (from 0). */
export function groupOfRow(groups: Group[], absoluteRow: number): number {
  let lo = 0;
  let hi = groups.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (groups[mid]!.firstRow <= absoluteRow) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

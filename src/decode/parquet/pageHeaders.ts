// A Parquet page header's sizes are the file's claims, and hyparquet allocates what they say before it
// decompresses into it: a 321-byte file whose page declared 2 GiB uncompressed took 2 GiB of memory.
// Every page header is checked here before its page is read: its compressed bytes must lie inside its
// column chunk (else SOURCE_CORRUPT), and neither its uncompressed size nor its values (4 bytes each in
// the arrays they are decoded into) may pass the record limit (else PAGE_TOO_LARGE).
import type { PageHeader } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { IngestError } from '../../errors.js';
import type { RecordLimit } from '../recordLimit.js';

/** Bytes a decoded value takes at least (a dictionary index, an Int32Array element). */
const BYTES_PER_VALUE = 4;

/** A column chunk's bytes, and the position of the next read in them. */
export interface ChunkReader {
  view: DataView;
  offset: number;
}

/** Where a column chunk is, for the messages, and the limit its pages are held to. */
export interface ChunkPlace {
  /** The column's path, dotted. */
  column: string;
  /** File offset of the chunk's first byte. */
  start: number;
  limit: RecordLimit;
}

/** Reads the page header at `reader.offset` (leaving the reader at the page's bytes) and checks its claims. */
export function checkedHeader(reader: ChunkReader, place: ChunkPlace): PageHeader {
  const at = place.start + reader.offset;
  const header = parquetHeader(reader);
  const compressed = header.compressed_page_size;
  const uncompressed = header.uncompressed_page_size;
  const left = reader.view.byteLength - reader.offset;
  const where = { file: place.limit.name, column: place.column, pageOffset: at };
  if (!Number.isInteger(compressed) || compressed < 0 || compressed > left || !Number.isInteger(uncompressed) || uncompressed < 0) {
    throw new IngestError(
      'SOURCE_CORRUPT',
      `${place.limit.name}: the Parquet page of column ${place.column} at byte ${at} declares ${compressed} compressed bytes ` +
        `(${left} are left in its column chunk) and ${uncompressed} uncompressed; the file is corrupt`,
      { ...where, compressedPageSize: compressed, uncompressedPageSize: uncompressed, bytesLeftInChunk: left },
    );
  }
  const values = header.data_page_header?.num_values ?? header.data_page_header_v2?.num_values ?? header.dictionary_page_header?.num_values ?? 0;
  const max = place.limit.maxBytes;
  if (uncompressed > max || values * BYTES_PER_VALUE > max) {
    throw new IngestError(
      'PAGE_TOO_LARGE',
      `${place.limit.name}: the Parquet page of column ${place.column} at byte ${at} declares ${uncompressed} uncompressed bytes and ${values} values, ` +
        `more than RECORD_MAX_BYTES (${max} bytes, at ${BYTES_PER_VALUE} bytes a value) allows; nothing from this file was committed. ` +
        'Raise RECORD_MAX_BYTES if pages this large are real.',
      { ...where, uncompressedPageSize: uncompressed, values, limit: max },
    );
  }
  return header;
}

/**
 * Checks every page header of a column chunk, for the readers that go through hyparquet's readColumn
 * (which reads the headers itself). Stops at bytes that are not a header: readColumn reports those.
 */
export function checkPages(view: DataView, place: ChunkPlace): void {
  const reader = { view, offset: 0 };
  while (reader.offset < view.byteLength - 1) {
    let header: PageHeader;
    try {
      header = checkedHeader(reader, place);
    } catch (err) {
      if (err instanceof IngestError) throw err;
      return;
    }
    reader.offset += header.compressed_page_size;
  }
}

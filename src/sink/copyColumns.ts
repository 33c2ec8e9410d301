// The columns a COPY lists, decided in one place for every load path: the decoder's own (JSON Lines and
// Parquet name their fields), the header record's (target.columns "header"), or the target's as resolved.
import type { RecordDecoder } from '../decode/decoder.js';
import type { JobSpec } from '../jobs/spec.js';
import { columnsFromHeader } from './headerColumns.js';
import type { ResolvedTarget } from './resolveTarget.js';

/** Node's name for the text of a file in a PostgreSQL encoding, for its header and reported records. */
export function textEncodingOf(pgEncoding: string): BufferEncoding {
  return /^(LATIN1|ISO[-_]?8859[-_]?1|WIN1252|SQL_ASCII)$/i.test(pgEncoding) ? 'latin1' : 'utf8';
}

export function copyColumns(decoder: RecordDecoder, spec: JobSpec, target: ResolvedTarget, header: Buffer | undefined): string[] {
  return (
    decoder.copyColumns?.() ??
    (spec.target.columns === 'header'
      ? columnsFromHeader(header, spec.format, target.tableColumns, spec.target.table, textEncodingOf(spec.format.encoding))
      : target.columns)
  );
}

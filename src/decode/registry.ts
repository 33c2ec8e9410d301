// Which decoder reads an object: the one table of formats. A new format adds its decoder here and
// touches nothing else in the load path.
import { handbuilt } from '../handbuilt/switches.js';
import { IngestError } from '../errors.js';
import type { FormatType, JobSpec } from '../jobs/spec.js';
import type { ResolvedTarget } from '../sink/resolveTarget.js';
import type { ObjectInfo } from '../sources/source.js';
import { CsvFramer } from './csv/csvFramer.js';
import type { DecoderOptions, RecordDecoder } from './decoder.js';
import { NdjsonDecoder } from './ndjson/ndjsonDecoder.js';
import { ParquetDecoder } from './parquet/parquetDecoder.js';
import { defaultLimit } from './recordLimit.js';

/** The object's format: the spec's format.type, else its name's suffix (gzip's .gz looked through). */
export function formatTypeOf(spec: JobSpec, object: Pick<ObjectInfo, 'key'>): FormatType {
  if (spec.format.type) return spec.format.type;
  const name = object.key.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.parquet')) return 'parquet';
  if (/\.(jsonl|ndjson|json)$/.test(name)) return 'ndjson';
  return 'csv';
}

/** The decoder for one object of a job, for the target's resolved columns. */
export function decoderFor(spec: JobSpec, object: ObjectInfo, target: ResolvedTarget, options: DecoderOptions): RecordDecoder {
  const type = formatTypeOf(spec, object);
  const opts = { ...options, limit: options.limit ?? { ...defaultLimit(), name: object.key } };
  switch (type) {
    case 'csv':
      if (spec.target.columns !== undefined && spec.target.columns !== 'header' && !Array.isArray(spec.target.columns)) {
        throw new IngestError('INVALID_SPEC', `${object.key} is CSV, whose columns have no names to map: target.columns must be a list (or "header"), not a map`, {
          field: '/target/columns',
        });
      }
      return new CsvFramer({
        quote: spec.format.quote,
        escape: spec.format.escape,
        header: spec.format.header,
        dropBom: /^UTF-?8$/i.test(spec.format.encoding),
        trackRecords: opts.trackRecords,
        copyFormat: spec.format,
        limit: opts.limit,
        ...(opts.cutEvery !== undefined ? { cutEvery: opts.cutEvery } : {}),
        // CITUS_INGEST_PLAIN=scan: the byte-by-byte line-end scan instead of the WebAssembly one.
        ...(handbuilt('scan') ? {} : { simd: false }),
      });
    case 'ndjson':
      return new NdjsonDecoder({ ...opts, columns: target.columns, rename: renames(target) });
    case 'parquet': {
      const info = new Map(target.columnInfo.map((c) => [c.name, c]));
      return new ParquetDecoder({
        ...opts,
        columns: target.columns,
        rename: renames(target),
        targetColumns: target.columns.map((name) => info.get(name) ?? { name }),
      });
    }
  }
}

/** The fields target.columns maps to columns of another name (field -> column). */
function renames(target: ResolvedTarget): Record<string, string> {
  return Object.fromEntries(target.fields.map((field, i) => [field, target.columns[i]!]).filter(([field, column]) => field !== column));
}

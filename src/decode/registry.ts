// Which decoder reads a job's objects: the one table of formats. A new format adds its decoder here and
// touches nothing else in the load path.
import type { JobSpec } from '../jobs/spec.js';
import { CsvFramer } from './csv/csvFramer.js';
import type { DecoderOptions, RecordDecoder } from './decoder.js';

/** The decoder for one object of a job. */
export function decoderFor(spec: JobSpec, opts: DecoderOptions): RecordDecoder {
  return new CsvFramer({
    quote: spec.format.quote,
    escape: spec.format.escape,
    header: spec.format.header,
    dropBom: /^UTF-?8$/i.test(spec.format.encoding),
    trackRecords: opts.trackRecords,
    copyFormat: spec.format,
    ...(opts.cutEvery !== undefined ? { cutEvery: opts.cutEvery } : {}),
  });
}

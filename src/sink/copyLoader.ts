// The sink of a load, chosen per job: a single COPY for the whole file (singleCopy.ts; any bad record
// fails the file) or batches under savepoints that reject bad records and load the rest (batchCopy.ts).
// Both take the source's bytes, have the decoder turn them into records, and feed COPY (copySink.ts).
import { BatchCopy } from './batchCopy.js';
import type { CopyLoaderOptions, CopySink } from './copySink.js';
import { SingleCopy } from './singleCopy.js';

export type { CopyLoaderOptions } from './copySink.js';
export type { Reject } from './reject.js';
export type CopyLoader = CopySink;

export function createCopyLoader(o: CopyLoaderOptions): CopyLoader {
  return o.mode === 'batch' ? new BatchCopy(o) : new SingleCopy(o);
}

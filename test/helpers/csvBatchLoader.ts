// A CopyLoader in batch mode over plain CSV (no header), collecting its rejects: the setup the sink's own
// tests share.
import type { PoolClient } from 'pg';
import { CsvFramer } from '../../src/decode/csv/csvFramer.js';
import { createCopyLoader, type CopyLoader, type CopyLoaderOptions, type Reject } from '../../src/sink/copyLoader.js';

export function csvBatchLoader(
  client: PoolClient,
  o: Pick<CopyLoaderOptions, 'batchBytes' | 'statement' | 'stage'>,
): { loader: CopyLoader; rejects: Reject[] } {
  const rejects: Reject[] = [];
  const loader = createCopyLoader({
    client,
    decoder: new CsvFramer({ quote: '"', escape: '"', header: false, dropBom: true, trackRecords: true }),
    mode: 'batch',
    textEncoding: 'utf8',
    ...o,
    onReject: async (r) => {
      rejects.push(r);
    },
  });
  return { loader, rejects };
}

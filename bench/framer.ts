// `npm run bench:framer [-- --rows N]`: how fast CsvFramer frames the benchmark's price-paid file held in
// memory, in 64 KiB chunks as a socket delivers them, with the SIMD line-end scan and with the
// byte-by-byte one. Three passes each; the best is printed (nothing else of the service runs).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CsvFramer } from '../src/decode/csv/csvFramer.js';
import { ensureDataFile } from './data.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } });
const file = await ensureDataFile(Number(values.rows));
const data = await readFile(file.path);
const chunks: Buffer[] = [];
for (let o = 0; o < data.length; o += 65536) chunks.push(data.subarray(o, o + 65536));

for (const simd of [true, false]) {
  let best = Infinity;
  let records = 0;
  for (let pass = 0; pass < 3; pass++) {
    const framer = new CsvFramer({ quote: '"', escape: '"', header: false, dropBom: true, trackRecords: false, simd });
    const t0 = performance.now();
    const out: Buffer[] = [];
    for (const chunk of chunks) {
      framer.push(chunk, out);
      out.length = 0;
    }
    framer.end(out);
    best = Math.min(best, performance.now() - t0);
    records = framer.stats.records;
  }
  const mbps = data.length / 1e6 / (best / 1000);
  console.log(`${simd ? 'SIMD scan' : 'byte scan'}: ${records.toLocaleString('en-US')} records, ${(data.length / 1e6).toFixed(1)} MB in ${best.toFixed(1)} ms (${mbps.toFixed(0)} MB/s)`);
}

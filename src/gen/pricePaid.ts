// A deterministic generator of UK price-paid-shaped CSV: no header, 16 double-quoted fields, a braced
// GUID id, dates as `YYYY-MM-DD 00:00`, commas and apostrophes inside fields, some empty postcodes.
// The same seed always gives the same bytes, so tests, the demo and the benchmark can regenerate a file
// and know its exact content.
import { Readable } from 'node:stream';
import type { CreateSpec } from '../jobs/spec.js';
import { quoteIdent } from '../sink/names.js';

/** The reference table's columns and types (shared/CONTEXT.md), in the file's order. */
export const ukPriceColumnDefs = [
  { name: 'transaction_unique_identifier', type: 'uuid' },
  { name: 'price', type: 'character varying(50)' },
  { name: 'date_of_transfer', type: 'timestamp without time zone' },
  { name: 'postcode', type: 'character varying(10)' },
  { name: 'property_type', type: 'character varying(10)' },
  { name: 'Old/New', type: 'character varying(10)' },
  { name: 'duration', type: 'character varying(10)' },
  { name: 'paon', type: 'character varying(100)' },
  { name: 'saon', type: 'character varying(50)' },
  { name: 'street', type: 'character varying(100)' },
  { name: 'locality', type: 'character varying(50)' },
  { name: 'Town/City', type: 'character varying(50)' },
  { name: 'district', type: 'character varying(50)' },
  { name: 'county', type: 'character varying(50)' },
  { name: 'ppdcategory_type', type: 'character varying(10)' },
  { name: 'record_status', type: 'character varying(10)' },
] as const;

export const ukPriceColumns = ukPriceColumnDefs.map((c) => c.name);

export const ukPricePrimaryKey = 'transaction_unique_identifier';

/** The reference table as a job's target.create, for a service that creates (and distributes) it. */
export function ukPriceCreateSpec(): CreateSpec {
  return { columns: ukPriceColumnDefs.map((c) => ({ name: c.name, type: c.type })), primaryKey: [ukPricePrimaryKey] };
}

/** The reference table of the manual workflow (shared/CONTEXT.md), under the given quoted name. */
export function ukPriceTableSql(qualifiedName: string): string {
  const columns = ukPriceColumnDefs.map((c) => `    ${quoteIdent(c.name)} ${c.type}${c.name === ukPricePrimaryKey ? ' PRIMARY KEY' : ''}`);
  return `CREATE TABLE ${qualifiedName} (\n${columns.join(',\n')}\n  )`;
}

/** The seed of the sample `npm run demo` uploads, so a test can regenerate its rows. */
export const DEMO_SAMPLE_SEED = 2023;

const towns = ['MILTON KEYNES', 'LONDON', 'BRISTOL', 'LEEDS', 'MANCHESTER', 'NORWICH', 'YORK', 'BATH', 'DERBY', 'TRURO'];
const counties = ['MILTON KEYNES', 'GREATER LONDON', 'CITY OF BRISTOL', 'WEST YORKSHIRE', 'GREATER MANCHESTER', 'NORFOLK', 'YORK', 'BATH AND NORTH EAST SOMERSET', 'DERBY', 'CORNWALL'];
const streets = ['ALDRICH DRIVE', "ST JOHN'S ROAD", 'HIGH STREET', 'MILL LANE', "QUEEN'S AVENUE", 'CHURCH ROAD', 'THE GREEN', 'STATION ROAD'];
const localities = ['WILLEN', '', 'CLIFTON', '', 'HEADINGLEY', '', 'DIDSBURY', ''];
const types = ['D', 'S', 'T', 'F', 'O'];
const letters = 'ABCDEFGHJKLMNPRSTUWXYZ';

/** A small fast PRNG (mulberry32): deterministic across platforms. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

export function* pricePaidRows(count: number, seed = 1): Generator<string[]> {
  const r = rng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  for (let i = 0; i < count; i++) {
    // GUIDs unique per (seed, i): the row index is folded into the last group.
    const guid = `{${hex(int(0x100000000), 8)}-${hex(int(0x10000), 4)}-4${hex(int(0x1000), 3)}-${hex(0x8000 | int(0x4000), 4)}-${hex(seed & 0xffff, 4)}${hex(i, 8)}}`;
    const year = 1995 + int(29);
    const month = 1 + int(12);
    const day = 1 + int(28);
    const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')} 00:00`;
    const t = int(towns.length);
    const postcode = int(50) === 0 ? '' : `${letters[int(22)]}${letters[int(22)]}${1 + int(20)} ${int(10)}${letters[int(22)]}${letters[int(22)]}`;
    const flat = int(6) === 0;
    const paon = flat ? `FLAT ${1 + int(40)}, ${1 + int(200)}` : String(1 + int(300));
    const saon = int(10) === 0 ? `UNIT ${1 + int(9)}` : '';
    yield [
      guid,
      String(10_000 + int(2_000_000)),
      date,
      postcode,
      types[int(5)]!,
      int(10) === 0 ? 'Y' : 'N',
      int(4) === 0 ? 'L' : 'F',
      paon,
      saon,
      streets[int(streets.length)]!,
      localities[int(localities.length)]!,
      towns[t]!,
      towns[t]!,
      counties[t]!,
      int(20) === 0 ? 'B' : 'A',
      'A',
    ];
  }
}

/** One row as the price-paid file writes it: every field double-quoted, a quote inside doubled. */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map((f) => `"${f.replace(/"/g, '""')}"`).join(',')}\n`;
}

/** The whole file as a Buffer (for small sizes). */
export function pricePaidCsv(rows: number, seed = 1): Buffer {
  const parts: string[] = [];
  for (const fields of pricePaidRows(rows, seed)) parts.push(csvLine(fields));
  return Buffer.from(parts.join(''), 'utf8');
}

/** The file as a stream of ~1 MB chunks, for sizes that should not sit in memory. */
export function pricePaidStream(rows: number, seed = 1): Readable {
  const it = pricePaidRows(rows, seed);
  return new Readable({
    read() {
      const parts: string[] = [];
      let size = 0;
      while (size < 1 << 20) {
        const next = it.next();
        if (next.done) {
          if (parts.length > 0) this.push(parts.join(''));
          this.push(null);
          return;
        }
        const line = csvLine(next.value);
        parts.push(line);
        size += line.length;
      }
      this.push(parts.join(''));
    },
  });
}

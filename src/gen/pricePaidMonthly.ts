// Monthly change files consistent with a base file from pricePaid.ts, shaped like the Land Registry's
// monthly updates: the same 16 columns, the 16th saying A (added: a new id), C (changed: the price or
// the date of an id the base holds) or D (deleted: an id the base holds). A month may also add an id
// and delete it later in the same file, and delete an id that never existed. Months built from the
// same base never delete an id twice and never change an id deleted before, so they apply in order.
import { csvLine, pricePaidRows } from './pricePaid.js';

export interface MonthSpec {
  /** 1, 2, 3...: months must be applied in this order. */
  month: number;
  /** New ids (status A). */
  adds: number;
  /** Base ids whose price or date changes (status C). */
  changes: number;
  /** Base ids deleted (status D). */
  deletes: number;
  /** New ids added and then deleted later in the same file (an A, and a D at the end). Default 0. */
  addThenDelete?: number;
  /** Deletes of ids that never existed. Default 0. */
  deleteUnknown?: number;
}

export interface BaseSpec {
  rows: number;
  seed: number;
}

/** The GUID group pricePaidRows puts the seed in; this one is never a real seed (see unknownId). */
const UNKNOWN_SEED_TAG = 'FFFF';

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** A fixed permutation of the base's row indices: deletes come from its front, changes from its back half. */
function permutation(n: number): (j: number) => number {
  let a = 1_000_003 % n || 1;
  while (gcd(a, n) !== 1) a += 1;
  return (j) => (j * a + 7) % n;
}

/** The seed a month's new rows come from: distinct from the base's and from every other month's. */
export function addSeedFor(base: BaseSpec, month: number): number {
  return (base.seed + 0x100 * month) & 0x7fff;
}

function unknownId(month: number, k: number): string {
  return `{00000000-0000-4000-8000-${UNKNOWN_SEED_TAG}${month.toString(16).toUpperCase().padStart(2, '0')}${k.toString(16).toUpperCase().padStart(6, '0')}}`;
}

/**
 * One month's records, in file order. Base indices deleted in month m are the permutation's entries
 * [(m-1)·deletes, m·deletes); changed ones come from its back half, so they never meet a delete as long
 * as all months' deletes stay below half the base.
 */
export function monthlyChangeRows(base: BaseSpec, m: MonthSpec): string[][] {
  const n = base.rows;
  const half = Math.floor(n / 2);
  if (m.month < 1 || m.month * m.deletes > half || m.changes > n - half) {
    throw new Error(`month ${m.month}: ${m.deletes} deletes a month and ${m.changes} changes do not fit a base of ${n} rows`);
  }
  const pi = permutation(n);
  const fate = new Map<number, 'C' | 'D'>();
  for (let k = 0; k < m.deletes; k++) fate.set(pi((m.month - 1) * m.deletes + k), 'D');
  const changeStart = ((m.month - 1) * m.changes) % (n - half);
  for (let k = 0; k < m.changes; k++) fate.set(pi(half + ((changeStart + k) % (n - half))), 'C');

  const changed: string[][] = [];
  let i = 0;
  let r = m.month * 2654435761;
  const next = (): number => {
    r = (Math.imul(r ^ (r >>> 13), 0x5bd1e995) + 0x9e3779b9) >>> 0;
    return r / 4294967296;
  };
  for (const row of pricePaidRows(n, base.seed)) {
    const f = fate.get(i++);
    if (!f) continue;
    if (f === 'D') {
      changed.push([...row.slice(0, 15), 'D']);
    } else {
      const out = [...row.slice(0, 15), 'C'];
      out[1] = String(10_000 + Math.floor(next() * 2_000_000));
      if (next() < 0.5) out[2] = `20${String(10 + Math.floor(next() * 15))}-0${1 + Math.floor(next() * 9)}-1${Math.floor(next() * 9)} 00:00`;
      changed.push(out);
    }
  }
  const pairs = m.addThenDelete ?? 0;
  const added = [...pricePaidRows(m.adds + pairs, addSeedFor(base, m.month))].map((row) => [...row.slice(0, 15), 'A']);
  // Adds and base records interleaved deterministically, as a real month's file mixes them.
  const body = [...added.slice(0, m.adds), ...changed];
  for (let k = body.length - 1; k > 0; k--) {
    const j = Math.floor(next() * (k + 1));
    [body[k], body[j]] = [body[j]!, body[k]!];
  }
  const pairAdds = added.slice(m.adds);
  const unknown = Array.from({ length: m.deleteUnknown ?? 0 }, (_, k) => {
    const row = [...pairAdds[0] ?? added[0] ?? [...pricePaidRows(1, base.seed)][0]!];
    row[0] = unknownId(m.month, k);
    row[15] = 'D';
    return row;
  });
  return [...pairAdds, ...body, ...unknown, ...pairAdds.map((row) => [...row.slice(0, 15), 'D'])];
}

/** The month's file as the Land Registry writes it: no header, every field double-quoted. */
export function monthlyChangeCsv(base: BaseSpec, m: MonthSpec): Buffer {
  return Buffer.from(monthlyChangeRows(base, m).map(csvLine).join(''), 'utf8');
}

// The soak's change files for mode "merge": each record adds (A), changes (C) or deletes (D) a row by
// its id, and the truth of a table is the files its ledger says were merged, applied in name order.
// The first file of a batch adds only; later ones change and delete rows the batch added before, add
// new ones, delete an id that never existed, and add then delete one id within the file.
import type { Random } from './random.js';

export type Op = 'A' | 'C' | 'D';

/** A record that applies (rejected records are left out): what it does to its id. */
export interface Change {
  id: string;
  line: number;
  amount: bigint;
  op: Op;
}

/** A row of the merged table, as the truth holds it. */
export interface MergedRow {
  file: string;
  line: number;
  amount: bigint;
}

/**
 * Writes one change file's lines (`id,file,line,amount,op`). `live` is the batch's ids as its earlier
 * files leave them (kept up to date here); the lines in `bad` add a fresh id with an amount that is not a
 * number (rejected, so they change nothing).
 */
export function changeFile(random: Random, key: string, rows: number, bad: Set<number>, live: string[], first: boolean): { lines: string[]; changes: Change[] } {
  const lines: string[] = [];
  const changes: Change[] = [];
  let addThenDelete: string | undefined;
  for (let line = 1; line <= rows; line++) {
    const amount = BigInt(random.int(1, 1_000_000));
    if (bad.has(line)) {
      lines.push(`${random.uuid()},${key},${line},not-a-number,A`);
      continue;
    }
    let op: Op = 'A';
    let id: string;
    const roll = random.next();
    if (first || live.length === 0 || roll < 0.3) id = random.uuid();
    else if (roll < 0.7) {
      op = 'C';
      id = random.pick(live);
    } else if (roll < 0.9) {
      op = 'D';
      const at = random.int(0, live.length - 1);
      id = live[at]!;
      live.splice(at, 1);
    } else if (roll < 0.95 || addThenDelete !== undefined) {
      op = 'D';
      id = random.uuid(); // never added: counted as deleteMissing, not an error
    } else {
      id = random.uuid();
      addThenDelete = id;
    }
    if (op === 'A' && id !== addThenDelete) live.push(id);
    lines.push(`${id},${key},${line},${amount},${op}`);
    changes.push({ id, line, amount, op });
  }
  if (addThenDelete !== undefined) {
    // The same id deleted later in the file: the last record per key wins, so no row is left.
    const line = rows + 1;
    lines.push(`${addThenDelete},${key},${line},1,D`);
    changes.push({ id: addThenDelete, line, amount: 1n, op: 'D' });
  }
  return { lines, changes };
}

/** Applies change files in order to the rows they start from (mutated and returned). */
export function applyChanges(rows: Map<string, MergedRow>, file: string, changes: Change[]): Map<string, MergedRow> {
  for (const c of changes) {
    if (c.op === 'D') rows.delete(c.id);
    else rows.set(c.id, { file, line: c.line, amount: c.amount });
  }
  return rows;
}

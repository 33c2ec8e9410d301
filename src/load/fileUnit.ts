// What one file's transaction does around its COPY, which is what tells the shapes that load a file in
// one transaction apart: whether it claims the object in the file ledger first, and how it ends (the
// ledger row and a commit, a merge into the target before them, or a rollback for a dry run).
// loadFile runs the transaction; a unit fills in its two moments.
import type { PoolClient } from '../db/pool.js';
import type { ObjectInfo } from '../sources/source.js';
import { claimLedgerEntry, completeLedgerEntry, type LedgerKey } from '../sql/fileLedger.js';
import type { MergeCounts } from '../sql/jobRows.js';
import { ledgerKeyOf, type FileResult } from './objectLoad.js';
import type { RunIds } from './shapes/shape.js';
import type { StageTimer } from './stageTimer.js';

export type LoadedBy = NonNullable<FileResult['loadedBy']>;

export interface FileUnit {
  /** The table the COPY writes into: the target, or a table aside (a stage). */
  readonly table: string;
  /**
   * In the transaction, before any byte is read: claims the object. Resolves with who loaded it when
   * the ledger already holds it (the file is then skipped), undefined when this transaction may load it.
   * `tableOid` is the OID of `table` as the transaction resolved it.
   */
  claim(client: PoolClient, tableOid: number, timer: StageTimer): Promise<LoadedBy | undefined>;
  /**
   * In the transaction, after the COPY: completes the unit. 'commit' commits the rows (with the run's
   * file record); 'rollback' rolls them back and reports them as validated (a dry run).
   */
  settle(client: PoolClient, counts: { rows: number; rejected: number }, timer: StageTimer): Promise<{ end: 'commit' | 'rollback'; merge?: MergeCounts }>;
}

/**
 * The file ledger's part of a unit: claim the object for `ids.target`, complete its row with the rows
 * loaded. `ledgerOid` is the OID the ledger knows the target by, from the OID the transaction resolved.
 */
export class FileClaim {
  private key: LedgerKey | undefined;

  constructor(
    private readonly ids: RunIds,
    private readonly object: ObjectInfo,
    private readonly reload: boolean,
  ) {}

  async claim(client: PoolClient, ledgerOid: number, timer: StageTimer): Promise<LoadedBy | undefined> {
    const key = ledgerKeyOf(this.ids.target, this.object, ledgerOid);
    this.key = key;
    const existing = await timer.time('ledgerMs', () => claimLedgerEntry(client, key, this.ids.jobId, this.ids.runId, this.reload));
    return existing ? { runId: existing.runId, jobId: existing.jobId, loadedAt: existing.loadedAt, rowsLoaded: existing.rowsLoaded } : undefined;
  }

  async complete(client: PoolClient, rows: number): Promise<void> {
    await completeLedgerEntry(client, this.key!, rows);
  }
}

/**
 * atomicity "file": the object and its ledger row commit together, straight into the target. `ledgerOid`:
 * the coordinator's OID of the target when the load enters at another node, whose OIDs differ.
 */
export function ledgeredUnit(ids: RunIds, object: ObjectInfo, table: string, reload: boolean, ledgerOid?: number): FileUnit {
  const ledger = new FileClaim(ids, object, reload);
  return {
    table,
    claim: (client, oid, timer) => ledger.claim(client, ledgerOid ?? oid, timer),
    settle: async (client, { rows }) => {
      await ledger.complete(client, rows);
      return { end: 'commit' };
    },
  };
}

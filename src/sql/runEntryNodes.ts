// Records what each entry node took in a run (runs.entry_nodes) and how the nodes were chosen
// (runs.entry_choice). The counts come from the ledgers: every file or chunk the run committed names the
// node its transaction entered at (NULL: the coordinator through DATABASE_URL). A chunked object's own
// file-ledger row is left out: its chunks carry its rows.
import type { Pool } from '../db/pool.js';
import type { EntryChoice } from '../sink/entryNodes.js';

/** What one entry node took in a run: rows committed, and bytes of source it parsed for them. */
export interface EntryNodeShare {
  node: string;
  rows: number;
  bytes: number;
}

export async function runEntryNodeShares(db: Pool, runId: string, choice: EntryChoice): Promise<EntryNodeShare[]> {
  const { rows } = await db.query<{ node: string | null; rows: number; bytes: number }>(
    `SELECT entry_node AS node, sum(rows_loaded)::bigint AS rows, sum(bytes)::bigint AS bytes FROM (
       SELECT c.entry_node, c.rows_loaded, c.byte_end - c.byte_start AS bytes FROM ingest.chunk_ledger c WHERE c.run_id = $1
       UNION ALL
       SELECT f.entry_node, f.rows_loaded, f.size FROM ingest.file_ledger f
        WHERE f.run_id = $1 AND NOT EXISTS (
          SELECT 1 FROM ingest.chunk_ledger c
           WHERE c.target = f.target AND c.scheme = f.scheme AND c.container = f.container AND c.key = f.key AND c.version = f.version AND c.size = f.size)
     ) entered GROUP BY entry_node`,
    [runId],
  );
  const coordinator = choice.nodes[0]!;
  const shares = new Map<string, EntryNodeShare>(choice.nodes.map((node) => [node, { node, rows: 0, bytes: 0 }]));
  for (const r of rows) {
    const node = r.node ?? coordinator;
    const share = shares.get(node) ?? { node, rows: 0, bytes: 0 };
    shares.set(node, { node, rows: share.rows + r.rows, bytes: share.bytes + r.bytes });
  }
  return [...shares.values()];
}

/** Writes the run's entry-node shares and choice once its loads are done; nothing without Citus (no choice). */
export async function recordRunEntryNodes(db: Pool, runId: string, choice: EntryChoice | undefined): Promise<void> {
  if (!choice) return;
  const shares = await runEntryNodeShares(db, runId, choice);
  await db.query('UPDATE ingest.runs SET entry_nodes = $2, entry_choice = $3 WHERE id = $1', [runId, JSON.stringify(shares), JSON.stringify(choice)]);
}

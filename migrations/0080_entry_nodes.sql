-- Loads that enter Citus at every node (target.entryNodes, docs/entry-nodes.md). A file's or chunk's
-- COPY then runs in a transaction opened on a worker, and its ledger row and run-file row must commit in
-- that same transaction, so those tables must be reachable from every node.
--
-- Each ledger row names the node its transaction entered at (NULL: the coordinator, through
-- DATABASE_URL); a run adds up its rows per node at its end into runs.entry_nodes, and keeps how its
-- entry nodes were chosen (and why) in runs.entry_choice.
ALTER TABLE ingest.file_ledger ADD COLUMN entry_node text;
ALTER TABLE ingest.chunk_ledger ADD COLUMN entry_node text;
CREATE INDEX file_ledger_run ON ingest.file_ledger (run_id);
CREATE INDEX chunk_ledger_run ON ingest.chunk_ledger (run_id);
ALTER TABLE ingest.runs ADD COLUMN entry_nodes jsonb, ADD COLUMN entry_choice jsonb;

-- On a Citus coordinator that is in its own metadata, the two ledgers and run_files become Citus local
-- tables: they stay on the coordinator, one copy, and every node with metadata can read and write them
-- inside its own transactions (Citus commits such a transaction on every node it touched with two-phase
-- commit). run_files loses its foreign key to runs: a Citus local table may only reference other Citus
-- tables, and nothing deletes runs. Without Citus (or with a coordinator not in pg_dist_node, where
-- Citus cannot add local tables to its metadata) nothing changes and loads enter at the coordinator only.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = 'pg_catalog' AND tablename = 'pg_dist_node') THEN
    RETURN;
  END IF;
  IF NOT (SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node WHERE groupid = 0)) THEN
    RETURN;
  END IF;
  ALTER TABLE ingest.run_files DROP CONSTRAINT IF EXISTS run_files_run_id_fkey;
  PERFORM citus_add_local_table_to_metadata('ingest.file_ledger');
  PERFORM citus_add_local_table_to_metadata('ingest.chunk_ledger');
  PERFORM citus_add_local_table_to_metadata('ingest.run_files');
END
$$;

-- A ledger entry belongs to the table its rows went into, not to a name: a table dropped and created
-- again under the same name (or swapped in by a replace job) is another table. target_oid is the
-- table's OID when the entry was written (on Citus, the coordinator's OID of the distributed table).
-- An entry whose OID differs from the table's current one is not loaded there; NULL marks the entries
-- written before this column, matched by name as before.
ALTER TABLE ingest.file_ledger ADD COLUMN target_oid oid;
ALTER TABLE ingest.chunk_ledger ADD COLUMN target_oid oid;

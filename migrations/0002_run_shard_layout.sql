-- The target's shard layout after each run (Citus): nodes, shards and bytes per node, skew.
ALTER TABLE ingest.runs ADD COLUMN shard_layout jsonb;

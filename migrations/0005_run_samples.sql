-- Progress samples of each run, for throughput-over-time charts: [elapsed ms, rows, bytes] triples,
-- one per progress tick, at most 2,000 per run.
ALTER TABLE ingest.runs ADD COLUMN samples jsonb NOT NULL DEFAULT '[]';

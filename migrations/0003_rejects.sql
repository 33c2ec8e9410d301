-- Rejected records, with their coordinates in the original file, and per-run / per-file counts.
CREATE TABLE ingest.rejects (
  id           bigserial PRIMARY KEY,
  job_id       uuid NOT NULL REFERENCES ingest.jobs (id) ON DELETE CASCADE,
  run_id       uuid NOT NULL,
  bucket       text NOT NULL,
  key          text NOT NULL,
  line         bigint,                 -- line in the original file, from 1, header included
  byte_offset  bigint,                 -- byte offset of the record in the (decompressed) file
  column_name  text,
  sqlstate     text NOT NULL,
  message      text NOT NULL,
  record       text NOT NULL,          -- the raw record, cut at 2,000 characters
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX rejects_job ON ingest.rejects (job_id, id);

ALTER TABLE ingest.runs ADD COLUMN rows_rejected bigint NOT NULL DEFAULT 0;
ALTER TABLE ingest.run_files ADD COLUMN rows_rejected bigint NOT NULL DEFAULT 0;
ALTER TABLE ingest.run_files ADD COLUMN blank_lines bigint NOT NULL DEFAULT 0;

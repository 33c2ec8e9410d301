-- Mode "merge": one row per file merged into a target, written in the file's transaction together with
-- its ledger row and its rows. It keeps merges in order: a file that sorts before one already merged
-- (by name, or by last-modified time) is refused unless the job says reload.
CREATE TABLE ingest.merge_log (
  target         text NOT NULL,
  bucket         text NOT NULL,
  key            text NOT NULL,
  etag           text NOT NULL,
  last_modified  timestamptz,
  job_id         uuid NOT NULL,
  run_id         uuid NOT NULL,
  counts         jsonb NOT NULL,
  merged_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (target, bucket, key, etag)
);

-- What a merge did with each file: inserted, updated, deleted, deleteMissing, rejected.
ALTER TABLE ingest.run_files ADD COLUMN merge jsonb;

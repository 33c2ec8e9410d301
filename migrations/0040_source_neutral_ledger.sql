-- Sources beyond S3 (gs://, az://, https://, file://): an object's identity is (scheme, container, key,
-- version, size) instead of (bucket, key, etag, size). Every existing row was written for s3://, so the
-- new scheme column defaults to 's3' and the renamed columns keep their values: each row still names
-- the same object, and an object already loaded is still skipped.
ALTER TABLE ingest.file_ledger RENAME COLUMN bucket TO container;
ALTER TABLE ingest.file_ledger RENAME COLUMN etag TO version;
ALTER TABLE ingest.file_ledger ADD COLUMN scheme text NOT NULL DEFAULT 's3';
ALTER TABLE ingest.file_ledger DROP CONSTRAINT file_ledger_pkey, ADD PRIMARY KEY (target, scheme, container, key, version, size);

ALTER TABLE ingest.chunk_ledger RENAME COLUMN bucket TO container;
ALTER TABLE ingest.chunk_ledger RENAME COLUMN etag TO version;
ALTER TABLE ingest.chunk_ledger ADD COLUMN scheme text NOT NULL DEFAULT 's3';
ALTER TABLE ingest.chunk_ledger DROP CONSTRAINT chunk_ledger_pkey, ADD PRIMARY KEY (target, scheme, container, key, version, size, byte_start);

ALTER TABLE ingest.merge_log RENAME COLUMN bucket TO container;
ALTER TABLE ingest.merge_log RENAME COLUMN etag TO version;
ALTER TABLE ingest.merge_log ADD COLUMN scheme text NOT NULL DEFAULT 's3';
ALTER TABLE ingest.merge_log DROP CONSTRAINT merge_log_pkey, ADD PRIMARY KEY (target, scheme, container, key, version);

ALTER TABLE ingest.run_files RENAME COLUMN bucket TO container;
ALTER TABLE ingest.run_files RENAME COLUMN etag TO version;
ALTER TABLE ingest.run_files ADD COLUMN scheme text NOT NULL DEFAULT 's3';
ALTER TABLE ingest.run_files DROP CONSTRAINT run_files_pkey, ADD PRIMARY KEY (run_id, scheme, container, key);

-- A reject's place in the source: line formats keep line and byte_offset; Parquet has no lines and
-- gives {rowGroup, row, absoluteRow} here.
ALTER TABLE ingest.rejects RENAME COLUMN bucket TO container;
ALTER TABLE ingest.rejects ADD COLUMN scheme text NOT NULL DEFAULT 's3';
ALTER TABLE ingest.rejects ADD COLUMN position jsonb;

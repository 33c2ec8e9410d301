-- The chunk ledger: with "atomicity": "chunk" a large object is cut at record boundaries (at the first
-- record end past every chunkBytes of the file) and each chunk commits with its own row here, in the
-- same transaction as its rows. After a crash only the chunks without a row load again.
CREATE TABLE ingest.chunk_ledger (
  target       text NOT NULL,
  bucket       text NOT NULL,
  key          text NOT NULL,
  etag         text NOT NULL,
  size         bigint NOT NULL,
  byte_start   bigint NOT NULL,        -- original (decompressed) offset of the chunk's first record
  byte_end     bigint NOT NULL,        -- offset just past its last record
  job_id       uuid NOT NULL,
  run_id       uuid NOT NULL,
  rows_loaded  bigint NOT NULL DEFAULT 0,
  loaded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (target, bucket, key, etag, size, byte_start)
);

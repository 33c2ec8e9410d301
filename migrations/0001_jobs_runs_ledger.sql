-- The service's own state, kept in the target database so that a load and its bookkeeping commit together.

-- A job: one submitted load spec. The API reads this row; BullMQ only carries the job id.
CREATE TABLE ingest.jobs (
  id               uuid PRIMARY KEY,
  status           text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  spec             jsonb NOT NULL,
  target           text NOT NULL,           -- the target table, as "schema"."table"
  source_url       text NOT NULL,
  queue            text NOT NULL,           -- the BullMQ queue that carries it
  idempotency_key  text,
  spec_hash        text NOT NULL,
  cancel_requested boolean NOT NULL DEFAULT false,
  attempts         integer NOT NULL DEFAULT 0,
  bytes_read       bigint NOT NULL DEFAULT 0,
  bytes_total      bigint,
  rows_loaded      bigint NOT NULL DEFAULT 0,
  error            jsonb,
  result           jsonb,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  started_at       timestamptz,
  finished_at      timestamptz
);
CREATE UNIQUE INDEX jobs_idempotency_key ON ingest.jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_newest ON ingest.jobs (created_at DESC, id DESC);
CREATE INDEX jobs_status_newest ON ingest.jobs (status, created_at DESC, id DESC);
CREATE INDEX jobs_unfinished ON ingest.jobs (queue, created_at) WHERE status IN ('queued', 'running');

-- A run: one attempt at a job, with its stage timings.
CREATE TABLE ingest.runs (
  id           uuid PRIMARY KEY,
  job_id       uuid NOT NULL REFERENCES ingest.jobs (id) ON DELETE CASCADE,
  attempt      integer NOT NULL,
  worker       text NOT NULL,
  status       text NOT NULL DEFAULT 'running'
               CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at  timestamptz,
  rows_loaded  bigint NOT NULL DEFAULT 0,
  bytes_read   bigint NOT NULL DEFAULT 0,
  timings      jsonb NOT NULL DEFAULT '{}',
  error        jsonb,
  UNIQUE (job_id, attempt)
);

-- What a run did with each source object.
CREATE TABLE ingest.run_files (
  run_id          uuid NOT NULL REFERENCES ingest.runs (id) ON DELETE CASCADE,
  job_id          uuid NOT NULL,
  bucket          text NOT NULL,
  key             text NOT NULL,
  etag            text NOT NULL,
  size            bigint NOT NULL,
  status          text NOT NULL CHECK (status IN ('running', 'loaded', 'skipped', 'failed', 'cancelled')),
  rows_loaded     bigint NOT NULL DEFAULT 0,
  bytes_read      bigint NOT NULL DEFAULT 0,
  loaded_by_run   uuid,                     -- for a skipped file: the run that loaded it
  timings         jsonb NOT NULL DEFAULT '{}',
  error           jsonb,
  started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at     timestamptz,
  PRIMARY KEY (run_id, bucket, key)
);
CREATE INDEX run_files_job ON ingest.run_files (job_id);

-- The file ledger: one row per object loaded into a target, inserted in the same transaction as the
-- object's COPY. A row here means the object's rows are in the target; no row means none are.
CREATE TABLE ingest.file_ledger (
  target       text NOT NULL,
  bucket       text NOT NULL,
  key          text NOT NULL,
  etag         text NOT NULL,
  size         bigint NOT NULL,
  job_id       uuid NOT NULL,
  run_id       uuid NOT NULL,
  rows_loaded  bigint NOT NULL DEFAULT 0,
  loaded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (target, bucket, key, etag, size)
);

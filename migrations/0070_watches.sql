-- Watches: a prefix whose new objects (or whose Spark markers) start loads by themselves, from the object
-- stores' event notifications and, if asked, from a listing every poll_seconds. The counters say what
-- the events did; watch_jobs says which jobs a watch started and what found each object.
CREATE TABLE ingest.watches (
  queue            text NOT NULL,
  name             text NOT NULL,
  prefix_url       text NOT NULL,
  trigger          text NOT NULL CHECK (trigger IN ('object', 'marker')),
  marker           text,
  -- The job spec every load gets, source.url left out (the object or the marked directory fills it in).
  spec             jsonb NOT NULL,
  -- SHA-256 (hex) of the secret a sender may put in the event URL instead of an API token.
  secret_sha256    text NOT NULL,
  poll_seconds     integer,
  events_received  bigint NOT NULL DEFAULT 0,
  events_matched   bigint NOT NULL DEFAULT 0,
  events_ignored   bigint NOT NULL DEFAULT 0,
  jobs_started     bigint NOT NULL DEFAULT 0,
  last_event_at    timestamptz,
  last_event       jsonb,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (queue, name),
  CHECK ((trigger = 'marker') = (marker IS NOT NULL))
);

CREATE TABLE ingest.watch_jobs (
  queue       text NOT NULL,
  watch       text NOT NULL,
  job_id      uuid NOT NULL REFERENCES ingest.jobs (id) ON DELETE CASCADE,
  -- The object (or the marker) that started the job.
  object_url  text NOT NULL,
  -- What found it: 'event:s3', 'event:gcs', 'event:azure' or 'listing'.
  found_by    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (queue, watch, job_id),
  FOREIGN KEY (queue, watch) REFERENCES ingest.watches (queue, name) ON DELETE CASCADE
);
CREATE INDEX watch_jobs_newest ON ingest.watch_jobs (queue, watch, created_at DESC);

-- Schedules: a job spec run on a cron pattern or every N seconds (BullMQ job schedulers carry the
-- ticks). Over a prefix each tick is an incremental load: the file ledger skips what earlier ticks loaded.
CREATE TABLE ingest.schedules (
  name           text PRIMARY KEY,
  queue          text NOT NULL,
  cron           text,
  every_seconds  integer,
  timezone       text,
  spec           jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  CHECK ((cron IS NULL) <> (every_seconds IS NULL))
);

ALTER TABLE ingest.jobs ADD COLUMN schedule text;
CREATE INDEX jobs_schedule_newest ON ingest.jobs (schedule, created_at DESC) WHERE schedule IS NOT NULL;

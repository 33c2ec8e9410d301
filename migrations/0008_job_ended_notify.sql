-- A job that reaches succeeded, failed or cancelled is announced on a channel when its transaction
-- commits, whichever path ended it (worker, cancel, reconciler): GET /jobs/:id?wait=N listens there
-- instead of polling.
CREATE FUNCTION ingest.notify_job_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('citus_ingest_job_ended', NEW.id::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_ended AFTER UPDATE OF status ON ingest.jobs FOR EACH ROW
  WHEN (NEW.status IN ('succeeded', 'failed', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION ingest.notify_job_ended();

-- An Idempotency-Key names a submission to one queue: two services on one database with different
-- queues (QUEUE_NAME) no longer share their keys, so one's retry can never return the other's job.
DROP INDEX ingest.jobs_idempotency_key;
CREATE UNIQUE INDEX jobs_idempotency_key ON ingest.jobs (queue, idempotency_key) WHERE idempotency_key IS NOT NULL;

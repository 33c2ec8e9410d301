-- Metrics count jobs by status per queue at every scrape.
CREATE INDEX jobs_queue_status ON ingest.jobs (queue, status);

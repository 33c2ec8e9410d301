-- A run lists a prefix while it loads (the first page's objects load while later pages are listed), so
-- a job's totals grow until its listing is complete: how many objects the running attempt has listed,
-- and whether that is all of them. NULL before a load lists anything (and for table operations).
ALTER TABLE ingest.jobs ADD COLUMN objects_listed bigint, ADD COLUMN listing_complete boolean;

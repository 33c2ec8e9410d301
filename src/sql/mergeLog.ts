// ingest.merge_log: the files merged into a target, in the order they were merged. Written in each
// file's own transaction; read before a merge job loads anything, to refuse a file older than one
// already merged.
import type { Pool, PoolClient } from '../db/pool.js';

export interface MergedFile {
  bucket: string;
  key: string;
  etag: string;
  lastModified: Date | undefined;
}

export async function recordMerge(
  client: PoolClient,
  target: string,
  file: MergedFile,
  ids: { jobId: string; runId: string },
  counts: object,
): Promise<void> {
  await client.query(
    `INSERT INTO ingest.merge_log (target, bucket, key, etag, last_modified, job_id, run_id, counts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (target, bucket, key, etag) DO UPDATE
        SET last_modified = excluded.last_modified, job_id = excluded.job_id, run_id = excluded.run_id,
            counts = excluded.counts, merged_at = clock_timestamp()`,
    [target, file.bucket, file.key, file.etag, file.lastModified ?? null, ids.jobId, ids.runId, JSON.stringify(counts)],
  );
}

/** The files merged into a target from one bucket below a key prefix. */
export async function mergedFiles(db: Pool | PoolClient, target: string, bucket: string, prefix: string): Promise<MergedFile[]> {
  const { rows } = await db.query<{ bucket: string; key: string; etag: string; last_modified: Date | null }>(
    `SELECT bucket, key, etag, last_modified FROM ingest.merge_log
      WHERE target = $1 AND bucket = $2 AND left(key, length($3)) = $3`,
    [target, bucket, prefix],
  );
  return rows.map((r) => ({ bucket: r.bucket, key: r.key, etag: r.etag, lastModified: r.last_modified ?? undefined }));
}

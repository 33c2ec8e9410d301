// ingest.merge_log: the files merged into a target, in the order they were merged. Written in each
// file's own transaction; read before a merge job loads anything, to refuse a file older than one
// already merged.
import type { Pool, PoolClient } from '../db/pool.js';

export interface MergedFile {
  scheme: string;
  container: string;
  key: string;
  version: string;
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
    `INSERT INTO ingest.merge_log (target, scheme, container, key, version, last_modified, job_id, run_id, counts)
     VALUES ($1, $9, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (target, scheme, container, key, version) DO UPDATE
        SET last_modified = excluded.last_modified, job_id = excluded.job_id, run_id = excluded.run_id,
            counts = excluded.counts, merged_at = clock_timestamp()`,
    [target, file.container, file.key, file.version, file.lastModified ?? null, ids.jobId, ids.runId, JSON.stringify(counts), file.scheme],
  );
}

/** The files merged into a target from one container below a key prefix. */
export async function mergedFiles(db: Pool | PoolClient, target: string, scope: { scheme: string; container: string; prefix: string }): Promise<MergedFile[]> {
  const { rows } = await db.query<{ scheme: string; container: string; key: string; version: string; last_modified: Date | null }>(
    `SELECT scheme, container, key, version, last_modified FROM ingest.merge_log
      WHERE target = $1 AND scheme = $4 AND container = $2 AND left(key, length($3)) = $3`,
    [target, scope.container, scope.prefix, scope.scheme],
  );
  return rows.map((r) => ({ scheme: r.scheme, container: r.container, key: r.key, version: r.version, lastModified: r.last_modified ?? undefined }));
}

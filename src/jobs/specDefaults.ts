// The job spec's defaults and limits, in one place: the schema (specSchema.ts), normalizeSpec and the
// loaders all read them.

export const MiB = 1024 * 1024;

/** The formats a source object may be in (decode/registry.ts has a decoder for each). */
export const formatTypes = ['csv', 'ndjson', 'parquet'] as const;
export type FormatType = (typeof formatTypes)[number];

/**
 * What a spec means where it says nothing. normalizeSpec stores format, maxErrors and dryRun filled in
 * (and POST /jobs's schema fills the fields with a `default`); the rest stays undefined in a stored spec,
 * since specProblem tells "left out" from "set" (streams and chunkBytes apply only with atomicity
 * "chunk"), and the code that uses them falls back to these values.
 */
export const specDefaults = {
  source: {
    /** Seconds to wait for source.waitForMarker to appear. */
    markerTimeoutSeconds: 3600,
  },
  /** CSV as PostgreSQL's COPY reads it; format.escape defaults to format.quote (see defaultFormat). */
  format: { header: false, delimiter: ',', quote: '"', null: '', encoding: 'UTF8' },
  target: {
    distributeExisting: false,
    /**
     * Connections per worker a load's COPY opens (citus.max_adaptive_executor_pool_size for the load's
     * transactions). With Citus's own setting (16) a COPY opens one per shard placement, up to 16 per
     * worker: 32 busy backends for a 32-shard table on two workers, all of them competing for the same
     * cores. With 4 per worker (the shards on a worker taking turns on them) a server-side COPY of the
     * benchmark's 1,000,000 rows into 32 shards took a median 3.16 s instead of 3.55 s over 10 rounds on
     * the 2-core benchmark machine (bench/results/citus-1000000.json), and the two-phase commit has fewer
     * connections to go through.
     */
    connectionsPerWorker: 4,
    /** Citus: where the load's transactions enter the cluster (load/entryNodes.ts decides "auto"). */
    entryNodes: 'auto' as 'coordinator' | 'all' | 'auto',
  },
  maxErrors: 0,
  reload: false,
  mode: 'append',
  /** mode "merge": files of a prefix merge in name order. */
  order: 'name',
  /** Each file lands whole. Left undefined in a stored spec (replace and upsert store "job"). */
  atomicity: 'file',
  /** atomicity "chunk": parallel COPY streams per object. */
  streams: 2,
  /** atomicity "chunk": file bytes per chunk. */
  chunkBytes: 8 * MiB,
  concurrency: 1,
  dryRun: false,
  tableOperation: { strategy: 'by_shard_count', drainOnly: false },
} as const;

/**
 * Largest chunkBytes. Chunks are built in buffers of chunkBytes + 1 MiB, up to streams + 2 of them at
 * once. The old maximum (4 GiB) made one buffer larger than Node 20's Buffer limit
 * (buffer.constants.MAX_LENGTH, 4 GiB; raised only in Node 22), so it failed at run time; past 2^31
 * bytes some Buffer methods also misbehave (nodejs/node#35609). 256 MiB is far below both, and a chunk is
 * one transaction: larger ones only make a retry redo more.
 */
export const MAX_CHUNK_BYTES = 256 * MiB;
/** Most memory one object's chunk buffers may take: (streams + 2) x chunkBytes. */
export const MAX_CHUNK_MEMORY = 2 * 1024 * MiB;
/** Citus accepts shard counts from 1 to 64000 (citus.shard_count). */
export const MAX_SHARD_COUNT = 64_000;

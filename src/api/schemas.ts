// Schemas of what the API returns, written with TypeBox (typeboxKit.ts): they drive serialization and
// the OpenAPI document, and the answers a route sends are type-checked against them.
import { errorCodes } from '../errors.js';
import type { Static } from '@fastify/type-provider-typebox';
import { AnyObject, Fields, Nullable, OneOfStrings, Type } from './typeboxKit.js';

const errorShape = Type.Object({
  error: Type.Object({
    code: OneOfStrings(Object.keys(errorCodes)),
    message: Type.String(),
    details: AnyObject(),
  }),
});

/** The one error shape, as the shared schema `Error`. */
export const errorSchema = { $id: 'Error', ...errorShape };

/** An error answer of a route: the shared `Error` schema, typed as the shape it holds. */
export const errorRef = Type.Unsafe<Static<typeof errorShape>>({ $ref: 'Error#' });

/** A job accepted (202), or found again by its Idempotency-Key (200). */
export const acceptedSchema = Fields({ id: Type.String(), status: Type.String() });

const errorBody = Nullable(Fields({ code: Type.String(), message: Type.String(), details: AnyObject() }));

const ms = Type.Number();
const timings = Fields(
  {
    queueWaitMs: ms, markerWaitMs: ms, headMs: ms, targetMs: ms, connectMs: ms, prepareMs: ms, ledgerMs: ms, firstByteMs: ms, copyMs: ms, scanMs: ms, copyWaitMs: ms,
    sourceWaitMs: ms, commitMs: ms, stageMs: ms, publishMs: ms, mergeWaitMs: ms, mergeMs: ms, analyzeMs: ms, rebalanceMs: ms, layoutMs: ms, totalMs: ms,
  },
  {
    description: 'Stage durations in milliseconds. firstByteMs, scanMs, copyWaitMs and sourceWaitMs are parts of copyMs (the COPY starts with the GET): framing bytes, waiting on PostgreSQL, waiting on object storage.',
  },
);

const count = Type.Integer();
export const mergeCountsSchema = Fields({ inserted: count, updated: count, deleted: count, deleteMissing: count, rejected: count }, {
  description: 'mode "merge": what the records did: rows inserted, updated, deleted; delete records whose key was not there; rejected records.',
});

const runFileFields = {
  url: Type.String(),
  scheme: Type.String(),
  container: Type.String({ description: 'The bucket (s3, gs), account/container (az), host[:port] (https), or empty (file).' }),
  key: Type.String(),
  version: Type.String({ description: 'The ETag (or Last-Modified, or file mtime) the object had when it was read.' }),
  size: Type.Integer(),
  status: OneOfStrings(['running', 'loaded', 'skipped', 'failed', 'cancelled']),
  rowsLoaded: Type.Integer(),
  rowsRejected: Type.Integer(),
  blankLines: Type.Integer(),
  bytesRead: Type.Integer(),
  loadedByRun: Nullable(Type.String()),
  timings,
  error: errorBody,
  merge: mergeCountsSchema,
};
const runFile = Fields(runFileFields);

const nodeShare = Fields({ node: Type.String(), shards: Type.Integer(), bytes: Type.Integer() });
const tableType = OneOfStrings(['distributed', 'reference', 'local']);

export const shardLayoutSchema = Nullable(
  Fields(
    {
      type: tableType,
      distributionColumn: Nullable(Type.String()),
      shardCount: Type.Integer(),
      colocationId: Nullable(Type.Integer()),
      nodes: Type.Array(nodeShare),
      largestShardBytes: Type.Integer(),
      smallestShardBytes: Type.Integer(),
      skew: Nullable(Type.Number()),
    },
    { description: 'The target after the run (Citus): shards and bytes per node, and skew = largest shard / smallest shard.' },
  ),
);

export const tableFactsSchema = Fields({
  table: Type.String(),
  type: tableType,
  citus: Type.Boolean(),
  distributionColumn: Nullable(Type.String()),
  shardCount: Type.Integer(),
  colocationId: Nullable(Type.Integer()),
  sizeBytes: Type.Integer(),
  nodes: Type.Array(nodeShare),
});

const dateTime = Type.String({ format: 'date-time' });
const dateTimeOrNull = Nullable(Type.String({ format: 'date-time' }));

const run = Fields({
  id: Type.String(),
  attempt: Type.Integer(),
  worker: Type.String(),
  status: OneOfStrings(['running', 'succeeded', 'failed', 'cancelled']),
  startedAt: dateTime,
  finishedAt: dateTimeOrNull,
  rowsLoaded: Type.Integer(),
  rowsRejected: Type.Integer(),
  bytesRead: Type.Integer(),
  rowsPerSecond: Nullable(Type.Number()),
  mbPerSecond: Nullable(Type.Number()),
  timings,
  error: errorBody,
  shardLayout: shardLayoutSchema,
  entryNodes: Nullable(
    Type.Array(Fields({ node: Type.String(), rows: Type.Integer(), bytes: Type.Integer() }), {
      description: 'Citus: what each node the run\'s loads entered at took (target.entryNodes): rows committed and bytes of source parsed there. Null until the run succeeded.',
    }),
  ),
  entryChoice: Nullable(
    Fields(
      {
        requested: OneOfStrings(['coordinator', 'all', 'auto']),
        used: OneOfStrings(['coordinator', 'all']),
        reason: Type.String(),
        nodes: Type.Array(Type.String()),
      },
      { description: 'How the run chose its entry nodes: what target.entryNodes asked, what it used ("coordinator" or "all"), why, and the nodes.' },
    ),
  ),
  samples: Type.Array(Type.Array(Type.Number()), {
    description: 'Progress samples taken during the run, every PROGRESS_INTERVAL_MS: [elapsed ms, rows, bytes].',
  }),
  files: Type.Array(runFile, { description: 'The first 20 files of the run, in the order they started; GET /jobs/:id/files pages through all of them.' }),
  fileCount: Type.Integer({
    description: 'How many files the run has recorded (loaded, skipped or failed) so far: it grows while the run runs, and while the job\'s progress.listing is "in progress" more files are still to be listed.',
  }),
});

export const runFilesPageSchema = Fields({
  files: Type.Array(Fields({ ...runFileFields, attempt: Type.Integer() })),
  nextCursor: Nullable(Type.String({ description: 'Pass back as `cursor` for the next page; null on the last.' })),
});

const jobFields = {
  id: Type.String({ format: 'uuid' }),
  status: OneOfStrings(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  target: Type.String(),
  sourceUrl: Type.String(),
  spec: AnyObject(),
  schedule: Nullable(Type.String()),
  attempts: Type.Integer(),
  cancelRequested: Type.Boolean(),
  progress: Fields({
    bytesRead: Type.Integer(),
    bytesTotal: Nullable(
      Type.Integer({
        description: 'The bytes of every object the run loads; null while the listing is in progress (a prefix is listed page by page as its first objects load), so a percentage is never taken of a partial total.',
      }),
    ),
    rowsLoaded: Type.Integer(),
    listing: Type.Unsafe<'in progress' | 'complete' | null>({
      type: ['string', 'null'],
      enum: ['in progress', 'complete', null],
      description: 'Where the running (or last) attempt\'s listing is: "in progress" while later pages of a prefix are still being listed and the first objects load; "complete" once every object is known. null before a load lists anything, and for table operations.',
    }),
    objectsListed: Nullable(
      Type.Integer({
        description: 'Objects the attempt has listed so far (after bookkeeping and the pattern are left out); it grows while `listing` is "in progress" and is the total once it is "complete".',
      }),
    ),
  }),
  error: errorBody,
  result: Nullable({ type: 'object', additionalProperties: true } as const),
  createdAt: dateTime,
  updatedAt: dateTime,
  startedAt: dateTimeOrNull,
  finishedAt: dateTimeOrNull,
};

export const jobSummarySchema = Fields(jobFields);
export const jobSchema = Fields({ ...jobFields, runs: Type.Array(run) });

export const rejectSchema = Fields({
  id: Type.String(),
  runId: Type.String(),
  url: Type.String(),
  line: Nullable(Type.Integer({ description: 'Line in the original file, from 1, header included.' })),
  byteOffset: Nullable(Type.Integer({ description: 'Byte offset of the record in the (decompressed) file.' })),
  column: Nullable(Type.String()),
  sqlstate: Type.String(),
  message: Type.String(),
  record: Type.String({ description: 'The raw record, cut at 2,000 characters.' }),
  position: Fields(
    { rowGroup: Type.Integer(), row: Type.Integer(), absoluteRow: Type.Integer() },
    { description: 'Parquet (which has no lines): the row group, the row in it and the row in the file, all from 0.' },
  ),
});

// JSON schemas of what the API returns; they drive serialization and the OpenAPI document.
import { errorCodes } from '../errors.js';
import { Nullable } from './typeboxKit.js';

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: { type: 'string', enum: Object.keys(errorCodes) },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

const errorBody = Nullable({
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object', additionalProperties: true } },
} as const);

const timings = {
  type: 'object',
  description: 'Stage durations in milliseconds. firstByteMs, scanMs, copyWaitMs and sourceWaitMs are parts of copyMs (the COPY starts with the GET): framing bytes, waiting on PostgreSQL, waiting on object storage.',
  properties: Object.fromEntries(
    ['queueWaitMs', 'markerWaitMs', 'headMs', 'targetMs', 'connectMs', 'prepareMs', 'ledgerMs', 'firstByteMs', 'copyMs', 'scanMs', 'copyWaitMs', 'sourceWaitMs', 'commitMs', 'stageMs', 'publishMs', 'mergeWaitMs', 'mergeMs', 'analyzeMs', 'rebalanceMs', 'layoutMs', 'totalMs'].map((k) => [k, { type: 'number' }]),
  ),
} as const;

export const mergeCountsSchema = {
  type: 'object',
  description: 'mode "merge": what the records did: rows inserted, updated, deleted; delete records whose key was not there; rejected records.',
  properties: Object.fromEntries(['inserted', 'updated', 'deleted', 'deleteMissing', 'rejected'].map((k) => [k, { type: 'integer' }])),
} as const;

const runFile = {
  type: 'object',
  properties: {
    url: { type: 'string' },
    scheme: { type: 'string' },
    container: { type: 'string', description: 'The bucket (s3, gs), account/container (az), host[:port] (https), or empty (file).' },
    key: { type: 'string' },
    version: { type: 'string', description: 'The ETag (or Last-Modified, or file mtime) the object had when it was read.' },
    size: { type: 'integer' },
    status: { type: 'string', enum: ['running', 'loaded', 'skipped', 'failed', 'cancelled'] },
    rowsLoaded: { type: 'integer' },
    rowsRejected: { type: 'integer' },
    blankLines: { type: 'integer' },
    bytesRead: { type: 'integer' },
    loadedByRun: { type: ['string', 'null'] },
    timings,
    error: errorBody,
    merge: mergeCountsSchema,
  },
} as const;

const nodeShare = {
  type: 'object',
  properties: { node: { type: 'string' }, shards: { type: 'integer' }, bytes: { type: 'integer' } },
} as const;

export const shardLayoutSchema = Nullable({
  type: 'object',
  description: 'The target after the run (Citus): shards and bytes per node, and skew = largest shard / smallest shard.',
  properties: {
    type: { type: 'string', enum: ['distributed', 'reference', 'local'] },
    distributionColumn: { type: ['string', 'null'] },
    shardCount: { type: 'integer' },
    colocationId: { type: ['integer', 'null'] },
    nodes: { type: 'array', items: nodeShare },
    largestShardBytes: { type: 'integer' },
    smallestShardBytes: { type: 'integer' },
    skew: { type: ['number', 'null'] },
  },
} as const);

export const tableFactsSchema = {
  type: 'object',
  properties: {
    table: { type: 'string' },
    type: { type: 'string', enum: ['distributed', 'reference', 'local'] },
    citus: { type: 'boolean' },
    distributionColumn: { type: ['string', 'null'] },
    shardCount: { type: 'integer' },
    colocationId: { type: ['integer', 'null'] },
    sizeBytes: { type: 'integer' },
    nodes: { type: 'array', items: nodeShare },
  },
} as const;

const run = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    attempt: { type: 'integer' },
    worker: { type: 'string' },
    status: { type: 'string', enum: ['running', 'succeeded', 'failed', 'cancelled'] },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    rowsLoaded: { type: 'integer' },
    rowsRejected: { type: 'integer' },
    bytesRead: { type: 'integer' },
    rowsPerSecond: { type: ['number', 'null'] },
    mbPerSecond: { type: ['number', 'null'] },
    timings,
    error: errorBody,
    shardLayout: shardLayoutSchema,
    entryNodes: {
      type: ['array', 'null'],
      description: 'Citus: what each node the run\'s loads entered at took (target.entryNodes): rows committed and bytes of source parsed there. Null until the run succeeded.',
      items: { type: 'object', properties: { node: { type: 'string' }, rows: { type: 'integer' }, bytes: { type: 'integer' } } },
    },
    entryChoice: Nullable({
      type: 'object',
      description: 'How the run chose its entry nodes: what target.entryNodes asked, what it used ("coordinator" or "all"), why, and the nodes.',
      properties: {
        requested: { type: 'string', enum: ['coordinator', 'all', 'auto'] },
        used: { type: 'string', enum: ['coordinator', 'all'] },
        reason: { type: 'string' },
        nodes: { type: 'array', items: { type: 'string' } },
      },
    } as const),
    samples: {
      type: 'array',
      description: 'Progress samples taken during the run, every PROGRESS_INTERVAL_MS: [elapsed ms, rows, bytes].',
      items: { type: 'array', items: { type: 'number' } },
    },
    files: { type: 'array', items: runFile, description: 'The first 20 files of the run, in the order they started; GET /jobs/:id/files pages through all of them.' },
    fileCount: {
      type: 'integer',
      description: 'How many files the run has recorded (loaded, skipped or failed) so far: it grows while the run runs, and while the job\'s progress.listing is "in progress" more files are still to be listed.',
    },
  },
} as const;

export const runFilesPageSchema = {
  type: 'object',
  properties: {
    files: { type: 'array', items: { ...runFile, properties: { ...runFile.properties, attempt: { type: 'integer' } } } },
    nextCursor: { type: ['string', 'null'], description: 'Pass back as `cursor` for the next page; null on the last.' },
  },
} as const;

const jobProperties = {
  id: { type: 'string', format: 'uuid' },
  status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] },
  target: { type: 'string' },
  sourceUrl: { type: 'string' },
  spec: { type: 'object', additionalProperties: true },
  schedule: { type: ['string', 'null'] },
  attempts: { type: 'integer' },
  cancelRequested: { type: 'boolean' },
  progress: {
    type: 'object',
    properties: {
      bytesRead: { type: 'integer' },
      bytesTotal: {
        type: ['integer', 'null'],
        description: 'The bytes of every object the run loads; null while the listing is in progress (a prefix is listed page by page as its first objects load), so a percentage is never taken of a partial total.',
      },
      rowsLoaded: { type: 'integer' },
      listing: {
        type: ['string', 'null'],
        enum: ['in progress', 'complete', null],
        description: 'Where the running (or last) attempt\'s listing is: "in progress" while later pages of a prefix are still being listed and the first objects load; "complete" once every object is known. null before a load lists anything, and for table operations.',
      },
      objectsListed: {
        type: ['integer', 'null'],
        description: 'Objects the attempt has listed so far (after bookkeeping and the pattern are left out); it grows while `listing` is "in progress" and is the total once it is "complete".',
      },
    },
  },
  error: errorBody,
  result: Nullable({ type: 'object', additionalProperties: true } as const),
  createdAt: { type: 'string', format: 'date-time' },
  updatedAt: { type: 'string', format: 'date-time' },
  startedAt: { type: ['string', 'null'], format: 'date-time' },
  finishedAt: { type: ['string', 'null'], format: 'date-time' },
} as const;

export const jobSummarySchema = { type: 'object', properties: jobProperties } as const;
export const jobSchema = { type: 'object', properties: { ...jobProperties, runs: { type: 'array', items: run } } } as const;

export const rejectSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    runId: { type: 'string' },
    url: { type: 'string' },
    line: { type: ['integer', 'null'], description: 'Line in the original file, from 1, header included.' },
    byteOffset: { type: ['integer', 'null'], description: 'Byte offset of the record in the (decompressed) file.' },
    column: { type: ['string', 'null'] },
    sqlstate: { type: 'string' },
    message: { type: 'string' },
    record: { type: 'string', description: 'The raw record, cut at 2,000 characters.' },
    position: {
      type: 'object',
      description: 'Parquet (which has no lines): the row group, the row in it and the row in the file, all from 0.',
      properties: { rowGroup: { type: 'integer' }, row: { type: 'integer' }, absoluteRow: { type: 'integer' } },
    },
  },
} as const;

// /jobs: submit a load, read it back with its runs and timings, list jobs, cancel one.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IngestError } from '../errors.js';
import { decodeCursor, decodeRejectsCursor, encodeCursor } from '../api/cursor.js';
import { jobSpecSchema, normalizeSpec } from '../jobs/spec.js';
import { submitJob } from '../jobs/submit.js';
import { getJob, getJobRow } from '../sql/getJob.js';
import { listRejects } from '../sql/rejects.js';
import type { JobStatus } from '../sql/jobRows.js';
import { listJobs } from '../sql/listJobs.js';
import { requestCancel } from '../sql/requestCancel.js';
import { acceptedSchema, errorRef, jobSchema, jobSummarySchema, rejectSchema } from '../api/schemas.js';
import { JobWatch } from '../api/jobWatch.js';
import { jobIdParams } from '../api/pathParams.js';
import { Defaulted, Fields, Nullable, OneOfStrings, Type } from '../api/typeboxKit.js';
import type { Services } from '../services.js';

/** Longest GET /jobs/:id?wait= in seconds. */
const MAX_WAIT_SECONDS = 900;
/** A waiting request reads the job again at least this often (ms), in case a notification was lost. */
const RECHECK_MS = 5000;
const ENDED = new Set<string>(['succeeded', 'failed', 'cancelled']);
// Bodies are compiled by the strict validator, which does not see Fastify's shared schemas: inline it.
const { $id: _jobSpecId, ...jobSpecBody } = jobSpecSchema;

/** A decoded cursor, or a 400 when the string was not one this API returned. */
function known<T>(cursor: T | undefined): T {
  if (cursor === undefined) throw new IngestError('INVALID_REQUEST', 'cursor is not one this API returned', { field: 'cursor' });
  return cursor;
}

const jobStatuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];

export const jobRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { pool, queue, log } = services;

  app.post(
    '/jobs',
    {
      schema: {
        summary: 'Submit a load job',
        description: 'Stores the job and queues it. Send an Idempotency-Key header to make retries of this request safe.',
        body: jobSpecBody,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
        response: {
          202: acceptedSchema,
          200: acceptedSchema,
          400: errorRef,
          403: errorRef,
          409: errorRef,
        },
      },
    },
    async (req, reply) => {
      const key = req.headers['idempotency-key'];
      const { row, created } = await submitJob(services, normalizeSpec(req.body), key ? { idempotencyKey: key } : {});
      if (!created) return reply.code(200).send({ id: row.id, status: row.status });
      return reply.code(202).send({ id: row.id, status: row.status });
    },
  );

  app.get(
    '/jobs',
    {
      schema: {
        summary: 'List jobs, newest first',
        querystring: Type.Object(
          {
            status: Type.Optional(OneOfStrings(jobStatuses)),
            schedule: Type.Optional(Type.String({ maxLength: 100, description: 'Only jobs this schedule created' })),
            limit: Defaulted(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
            cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor from the previous page' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Fields({ jobs: Type.Array(jobSummarySchema), nextCursor: Nullable(Type.String()) }),
          400: errorRef,
        },
      },
    },
    async (req) => {
      const page = await listJobs(pool, {
        limit: req.query.limit,
        ...(req.query.status ? { status: req.query.status } : {}),
        ...(req.query.schedule ? { schedule: req.query.schedule } : {}),
        ...(req.query.cursor ? { cursor: known(decodeCursor(req.query.cursor)) } : {}),
      });
      return { jobs: page.jobs, nextCursor: page.next ? encodeCursor(page.next) : null };
    },
  );

  const { databaseListenUrl, databaseUrl, databasePoolMode } = services.config;
  // LISTEN needs a session: through a pooler in transaction mode it never hears anything, so waits
  // there rely on the recheck timer unless DATABASE_LISTEN_URL gives a direct connection.
  const watch = new JobWatch(databaseListenUrl ?? (databasePoolMode === 'transaction' ? undefined : databaseUrl), log);
  app.addHook('onClose', () => watch.close());

  app.get(
    '/jobs/:id',
    {
      schema: {
        summary: 'A job with its progress, error and runs',
        description:
          'With wait=N the answer is held until the job has ended (succeeded, failed or cancelled) or N seconds have passed, ' +
          'whichever comes first; the status says which. A load step can wait for its job in one request this way.',
        params: jobIdParams,
        querystring: Type.Object({ wait: Defaulted(Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS, default: 0 })) }, { additionalProperties: false }),
        response: { 200: jobSchema, 404: errorRef },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      const deadline = Date.now() + req.query.wait * 1000;
      // Watching starts before the first read, so an end between the two is not missed.
      const watching = req.query.wait > 0 ? await watch.watch(id) : undefined;
      const gone = new AbortController();
      // The response closes early only when the client went away.
      reply.raw.once('close', () => gone.abort());
      try {
        for (;;) {
          const job = await getJob(pool, id);
          if (!job) throw new IngestError('JOB_NOT_FOUND', `no job ${id}`, { id });
          const left = deadline - Date.now();
          if (!watching || ENDED.has(job.status) || left <= 0 || gone.signal.aborted) return job;
          // Woken by the job's notification; the timer only bounds a wait whose notification was lost.
          await watching.next(Math.min(left, RECHECK_MS), gone.signal);
        }
      } finally {
        watching?.dispose();
      }
    },
  );

  app.get(
    '/jobs/:id/rejects',
    {
      schema: {
        summary: "A job's rejected records, with their line numbers in the original files",
        params: jobIdParams,
        querystring: Type.Object(
          {
            limit: Defaulted(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$' })),
            runId: Type.Optional(Type.String({ format: 'uuid' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Fields({ rejects: Type.Array(rejectSchema), total: Type.Integer(), nextCursor: Nullable(Type.String()) }),
          404: errorRef,
        },
      },
    },
    async (req) => {
      const job = await getJobRow(pool, req.params.id);
      if (!job) throw new IngestError('JOB_NOT_FOUND', `no job ${req.params.id}`, { id: req.params.id });
      const page = await listRejects(pool, job.id, {
        limit: req.query.limit,
        ...(req.query.cursor ? { after: known(decodeRejectsCursor(req.query.cursor)) } : {}),
        ...(req.query.runId ? { runId: req.query.runId } : {}),
      });
      return { rejects: page.rejects, total: page.total, nextCursor: page.next };
    },
  );

  app.post(
    '/jobs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a queued or running job',
        description: 'A queued job is cancelled at once. A running load is aborted and rolled back; the job reads cancelled when that is done.',
        params: jobIdParams,
        response: { 202: jobSummarySchema, 404: errorRef, 409: errorRef },
      },
    },
    async (req, reply) => {
      const { row, changed } = await requestCancel(pool, req.params.id);
      if (!row) throw new IngestError('JOB_NOT_FOUND', `no job ${req.params.id}`, { id: req.params.id });
      if (!changed) {
        throw new IngestError('JOB_NOT_CANCELLABLE', `job ${row.id} is already ${row.status}`, { id: row.id, status: row.status });
      }
      if (row.status === 'cancelled') {
        const bull = await queue.getJob(row.id).catch(() => undefined);
        await bull?.remove().catch(() => {});
      }
      const job = await getJob(pool, row.id);
      if (!job) throw new IngestError('JOB_NOT_FOUND', `no job ${row.id}`, { id: row.id });
      return reply.code(202).send(job);
    },
  );
};

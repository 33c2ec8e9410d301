// GET /jobs/:id/files: every file of a job's runs, a page at a time. GET /jobs/:id shows only the first
// few files of each run (and how many there are), so a job over thousands of objects stays small.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IngestError } from '../errors.js';
import { errorRef, runFilesPageSchema } from '../api/schemas.js';
import { getJobRow } from '../sql/getJob.js';
import { decodeFilesCursor, encodeFilesCursor } from '../api/cursor.js';
import { INT4_MAX } from '../api/pgValues.js';
import { listRunFiles } from '../sql/listRunFiles.js';
import type { RunFile } from '../sql/jobRows.js';
import { jobIdParams } from '../api/pathParams.js';
import { Defaulted, OneOfStrings, Type } from '../api/typeboxKit.js';
import type { Services } from '../services.js';


const fileStatuses = ['running', 'loaded', 'skipped', 'failed', 'cancelled'] as const satisfies readonly RunFile['status'][];

export const jobFileRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/jobs/:id/files',
    {
      schema: {
        summary: "A job's files, page by page, in (run attempt, key) order",
        params: jobIdParams,
        querystring: Type.Object(
          {
            limit: Defaulted(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, pattern: '^[A-Za-z0-9_-]+$' })),
            attempt: Type.Optional(Type.Integer({ minimum: 1, maximum: INT4_MAX, description: 'Only this run (attempt number).' })),
            status: Type.Optional(OneOfStrings(fileStatuses)),
          },
          { additionalProperties: false },
        ),
        response: { 200: runFilesPageSchema, 400: errorRef, 404: errorRef },
      },
    },
    async (req) => {
      const { id } = req.params;
      const after = req.query.cursor === undefined ? undefined : decodeFilesCursor(req.query.cursor);
      if (req.query.cursor !== undefined && !after) {
        throw new IngestError('INVALID_REQUEST', 'cursor is not one this API returned: pass nextCursor back as it came', { field: '/cursor' });
      }
      const job = await getJobRow(services.pool, id);
      if (!job) throw new IngestError('JOB_NOT_FOUND', `no job ${id}`, { id });
      const page = await listRunFiles(services.pool, id, {
        limit: req.query.limit,
        ...(after ? { after } : {}),
        ...(req.query.attempt !== undefined ? { attempt: req.query.attempt } : {}),
        ...(req.query.status !== undefined ? { status: req.query.status } : {}),
      });
      return { files: page.files, nextCursor: page.next ? encodeFilesCursor(page.next) : null };
    },
  );
};

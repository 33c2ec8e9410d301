// /ui: the dashboard, server-rendered HTML (job list, job page with inline SVG charts). It reads the
// database through the same SQL modules as the API; it never calls the API over HTTP.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { getJob } from '../sql/getJob.js';
import { listJobs } from '../sql/listJobs.js';
import { listRejects } from '../sql/rejects.js';
import { listRunFiles } from '../sql/listRunFiles.js';
import { decodeCursor, decodeFilesCursor, encodeCursor, encodeFilesCursor } from '../api/cursor.js';
import type { SafeHtml } from '../ui/html.js';
import { jobListPage, jobStatuses } from '../ui/jobList.js';
import { jobPage } from '../ui/jobPage.js';
import { lastRuns } from '../sql/lastRuns.js';
import { listWatches } from '../sql/watches.js';
import { watchListPage } from '../ui/watchList.js';
import { errorPage } from '../ui/layout.js';
import type { Services } from '../services.js';

const defaultLimit = 50;
/** Rejects shown on a job page; the rest are one link away in the API. */
const rejectsShown = 100;
/** Files per page of a job's files table. */
const filesShown = 100;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const hidden = { hide: true } as const;

function send(reply: FastifyReply, status: number, body: SafeHtml): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    // Escaping is the defence; this is the second one: no script runs on these pages at all.
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    .send(body.value);
}

/**
 * A field of the query string or the path as it came. The pages check their own input and answer a bad
 * one with a page (the API's validation would answer with its JSON error), so they declare no request
 * schema and read the parts as what they are then: unknown.
 */
function sent(part: unknown, name: string): unknown {
  return typeof part === 'object' && part !== null ? Reflect.get(part, name) : undefined;
}

export const uiRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { pool } = services;

  // Encapsulated in this plugin: a failure on a page shows as a page, not as the API's JSON.
  app.setErrorHandler((err: Error, req, reply) => {
    req.log.error({ err }, 'dashboard page failed');
    return send(reply, 500, errorPage(500, 'Internal error', `The page could not be built: ${err.message}`));
  });

  app.get('/ui', { schema: hidden }, async (req, reply) => {
    const q = { status: sent(req.query, 'status'), limit: sent(req.query, 'limit'), cursor: sent(req.query, 'cursor') };
    const status = q.status ? jobStatuses.find((s) => s === q.status) : undefined;
    if (q.status && !status) return send(reply, 400, errorPage(400, 'Bad request', `status must be one of ${jobStatuses.join(', ')}`));
    const limit = q.limit === undefined ? defaultLimit : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) return send(reply, 400, errorPage(400, 'Bad request', 'limit must be an integer from 1 to 500'));
    const cursor = typeof q.cursor === 'string' && q.cursor !== '' ? decodeCursor(q.cursor) : undefined;
    if (q.cursor && !cursor) return send(reply, 400, errorPage(400, 'Bad request', 'cursor is not one this service handed out'));

    const result = await listJobs(pool, { limit, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
    const runs = await lastRuns(pool, result.jobs.map((j) => j.id));
    return send(
      reply,
      200,
      jobListPage({
        jobs: result.jobs,
        lastRuns: runs,
        limit,
        defaultLimit,
        paged: cursor !== undefined,
        ...(status ? { status } : {}),
        ...(result.next ? { nextCursor: encodeCursor(result.next) } : {}),
      }),
    );
  });

  app.get('/ui/jobs/:id', { schema: hidden }, async (req, reply) => {
    const id = sent(req.params, 'id');
    const filesCursor = sent(req.query, 'files');
    const after = typeof filesCursor === 'string' && filesCursor !== '' ? decodeFilesCursor(filesCursor) : undefined;
    if (filesCursor && !after) return send(reply, 400, errorPage(400, 'Bad request', 'files is not a cursor this service handed out'));
    const job = typeof id === 'string' && uuid.test(id) ? await getJob(pool, id) : undefined;
    if (!job) return send(reply, 404, errorPage(404, 'Job not found', `There is no job ${String(id)}.`));
    const rejects = await listRejects(pool, job.id, { limit: rejectsShown });
    // The job document holds only each run's first files: the table pages through all of them.
    const files = await listRunFiles(pool, job.id, { limit: filesShown, ...(after ? { after } : {}) });
    const filesView = { entries: files.files, paged: after !== undefined, ...(files.next ? { nextCursor: encodeFilesCursor(files.next) } : {}) };
    return send(reply, 200, jobPage({ job, rejects: rejects.rejects, rejectsTotal: rejects.total, refreshSeconds: 2, files: filesView }));
  });

  app.get('/ui/watches', { schema: hidden }, async (_req, reply) => send(reply, 200, watchListPage(await listWatches(pool, services.config.queueName))));

  app.get('/ui/*', { schema: hidden }, async (req, reply) => send(reply, 404, errorPage(404, 'Not found', `No dashboard page at ${req.url}.`)));
};

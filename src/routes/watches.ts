// /watches: a prefix whose new objects, or whose Spark markers, start loads by themselves. Events come
// to /events (routes/events.ts); a watch with pollSeconds also lists its prefix on a BullMQ job scheduler.
// A watch's job spec is checked as POST /jobs checks a spec (allow-lists included) when it is created.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifySchemaCompiler } from 'fastify';
import { AnyObject, Fields, Nullable, Type } from '../api/typeboxKit.js';
import { validatorCompiler } from '../api/validation.js';
import { errorRef } from '../api/schemas.js';
import { IngestError } from '../errors.js';
import { checkSpec } from '../jobs/submit.js';
import { checkScheduleInterval } from '../jobs/scheduleLimits.js';
import { parseSourceUrl } from '../sources/registry.js';
import { deleteWatch, getWatch, listWatches, upsertWatch, type WatchRow } from '../sql/watches.js';
import { listWatchJobs } from '../sql/watchesJobs.js';
import { pollSchedulerId } from '../watches/poll.js';
import { newSecret, secretDigest } from '../watches/secret.js';
import { DEFAULT_MARKER, watchBodySchema, watchJobSpec, watchNamePattern, type WatchBody } from '../watches/watchSpec.js';
import type { Services } from '../services.js';

/** Jobs GET /watches/:name lists, newest first. */
const RECENT_JOBS = 20;
const WATCHED_SCHEMES = new Set(['s3', 'gs', 'az']);

const watchSchema = Fields({
  name: Type.String(),
  prefix: Type.String(),
  on: Type.String(),
  marker: Nullable(Type.String()),
  pollSeconds: Nullable(Type.Integer()),
  job: AnyObject(),
  secret: Type.String({ description: 'Only in the answer that created the watch with a generated secret: keep it, it is not shown again.' }),
  eventPaths: Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' }, description: 'The per-watch event URLs (add ?secret=<the secret>).' }),
  events: Fields({
    received: Type.Integer(), matched: Type.Integer(), ignored: Type.Integer(),
    lastEventAt: Nullable(Type.String()), lastEvent: Nullable({ type: 'object', additionalProperties: true } as const),
  }),
  jobsStarted: Type.Integer(),
  jobs: Type.Array(Fields({ id: Type.String(), url: Type.String(), foundBy: Type.String(), status: Type.String(), createdAt: Type.String() })),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

/**
 * The body's validator, compiled at the first POST /watches rather than when the API starts: it holds a
 * whole job spec schema, whose compilation blocks the event loop for a few hundred milliseconds, and
 * the start already compiles one for POST /jobs and one for POST /schedules.
 */
const compiledOnFirstUse: FastifySchemaCompiler<unknown> = (route) => {
  let compiled: ReturnType<FastifySchemaCompiler<unknown>> | undefined;
  const validate = ((data: unknown) => {
    compiled ??= validatorCompiler(route);
    const result = compiled(data);
    (validate as { errors?: unknown }).errors = (compiled as { errors?: unknown }).errors;
    return result;
  }) as ReturnType<FastifySchemaCompiler<unknown>>;
  return validate;
};

export function watchView(w: WatchRow) {
  return {
    name: w.name, prefix: w.prefixUrl, on: w.trigger, marker: w.marker, pollSeconds: w.pollSeconds, job: w.spec,
    eventPaths: Object.fromEntries(['s3', 'gcs', 'azure'].map((p) => [p, `/events/${p}/${w.name}`])),
    events: { received: w.eventsReceived, matched: w.eventsMatched, ignored: w.eventsIgnored, lastEventAt: w.lastEventAt, lastEvent: w.lastEvent },
    jobsStarted: w.jobsStarted, createdAt: w.createdAt, updatedAt: w.updatedAt,
  };
}

/** The checks POST /jobs makes, on the spec the watch's first load would have; fields named from the body. */
async function checkWatch(services: Services, body: WatchBody, marker: string | null): Promise<void> {
  const ref = parseSourceUrl(body.prefix, '/prefix');
  if (!WATCHED_SCHEMES.has(ref.scheme)) throw new IngestError('INVALID_SPEC', `${body.prefix}: a watch takes s3://, gs:// or az:// prefixes (their stores send events)`, { field: '/prefix' });
  if (body.on === 'object' && body.marker !== undefined) throw new IngestError('INVALID_SPEC', 'marker applies only with "on": "marker"', { field: '/marker' });
  try {
    if (body.pollSeconds !== undefined) checkScheduleInterval({ everySeconds: body.pollSeconds }, services.config.scheduleMinIntervalSeconds);
    await checkSpec(services, watchJobSpec({ trigger: body.on, marker, spec: body.job }, body.prefix));
  } catch (err) {
    if (err instanceof IngestError && typeof err.details?.field === 'string') {
      throw new IngestError(err.code, err.message, { ...err.details, field: bodyField(err.details.field) });
    }
    throw err;
  }
}

/** A field the job checks name, as the watch's body spells it. */
function bodyField(field: string): string {
  if (field === '/source/url') return '/prefix';
  if (field === '/everySeconds') return '/pollSeconds';
  return `/job${field}`;
}

const nameParams = Type.Object({ name: Type.String({ pattern: watchNamePattern }) });

export const watchRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { pool, queue, config } = services;

  app.post(
    '/watches',
    {
      schema: {
        summary: 'Create or replace a watch',
        description: 'Loads each new object under `prefix` ("on": "object") or each directory whose marker appears ("on": "marker"), as events arrive at /events. See docs/watches.md.',
        body: watchBodySchema,
        response: { 200: watchSchema, 201: watchSchema, 400: errorRef, 403: errorRef },
      },
      validatorCompiler: compiledOnFirstUse,
    },
    async (req, reply) => {
      const body = req.body;
      const marker = body.on === 'marker' ? (body.marker ?? DEFAULT_MARKER) : null;
      await checkWatch(services, body, marker);
      const secret = body.secret ?? newSecret();
      const { row, created } = await upsertWatch(
        pool,
        { queue: config.queueName, name: body.name, prefixUrl: body.prefix, trigger: body.on, marker, spec: body.job, secretSha256: secretDigest(secret), pollSeconds: body.pollSeconds ?? null },
        body.secret !== undefined,
      );
      const schedulerId = pollSchedulerId(body.name) as 'poll';
      if (body.pollSeconds !== undefined) {
        await queue.upsertJobScheduler(schedulerId, { every: body.pollSeconds * 1000 }, {
          name: 'poll' as const, data: { watch: body.name }, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
        });
      } else {
        await queue.removeJobScheduler(schedulerId);
      }
      // A generated secret is shown once, when it is made.
      const shown = created && body.secret === undefined ? { secret } : {};
      return reply.code(created ? 201 : 200).send({ ...watchView(row), ...shown });
    },
  );

  app.get('/watches', { schema: { summary: 'List watches', response: { 200: Fields({ watches: Type.Array(watchSchema) }) } } }, async () => ({
    watches: (await listWatches(pool, config.queueName)).map(watchView),
  }));

  app.get(
    '/watches/:name',
    { schema: { summary: 'One watch: its counters, last event and the jobs it started', params: nameParams, response: { 200: watchSchema, 404: errorRef } } },
    async (req) => {
      const w = await getWatch(pool, config.queueName, req.params.name);
      if (!w) throw new IngestError('WATCH_NOT_FOUND', `no watch ${req.params.name}`, { name: req.params.name });
      const jobs = await listWatchJobs(pool, config.queueName, w.name, RECENT_JOBS);
      return { ...watchView(w), jobs: jobs.map((j) => ({ id: j.jobId, url: j.objectUrl, foundBy: j.foundBy, status: j.status, createdAt: j.createdAt })) };
    },
  );

  app.delete(
    '/watches/:name',
    { schema: { summary: 'Delete a watch (its jobs stay)', params: nameParams, response: { 204: { description: 'The watch was deleted; its jobs stay', type: 'null' }, 404: errorRef } } },
    async (req, reply) => {
      await queue.removeJobScheduler(pollSchedulerId(req.params.name));
      if (!(await deleteWatch(pool, config.queueName, req.params.name))) throw new IngestError('WATCH_NOT_FOUND', `no watch ${req.params.name}`, { name: req.params.name });
      return reply.code(204).send(null);
    },
  );
};

// /schedules: run a job spec on a cron pattern or every N seconds. Each schedule is a BullMQ job
// scheduler whose ticks store and queue a job from the spec; over a prefix that is an incremental load,
// since the file ledger skips every object an earlier tick loaded (identity: key, ETag and size).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AnyObject, Fields, Nullable, Type } from '../api/typeboxKit.js';
import { errorRef } from '../api/schemas.js';
import { IngestError } from '../errors.js';
import { jobSpecSchema, normalizeSpec } from '../jobs/spec.js';
import { checkSpec } from '../jobs/submit.js';
import { checkScheduleInterval } from '../jobs/scheduleLimits.js';
import { countSchedules, deleteSchedule, getSchedule, listSchedules, upsertSchedule, withSchedulesLocked, type ScheduleRow } from '../sql/schedules.js';
import type { Services } from '../services.js';

const { $id: _id, ...jobSpecBody } = jobSpecSchema;
const namePattern = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';
const nameParams = Type.Object({ name: Type.String({ pattern: namePattern }) });

const scheduleSchema = Fields({
  name: Type.String(),
  cron: Nullable(Type.String()),
  everySeconds: Nullable(Type.Integer()),
  timezone: Nullable(Type.String()),
  job: AnyObject(),
  nextRunAt: Nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const scheduleBody = Type.Object(
  {
    name: Type.String({ pattern: namePattern }),
    cron: Type.Optional(Type.String({ minLength: 9, maxLength: 100, examples: ['0 3 * * *'] })),
    everySeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_536_000 })),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, examples: ['Europe/London'] })),
    job: jobSpecBody,
  },
  { additionalProperties: false, oneOf: [{ required: ['cron'] }, { required: ['everySeconds'] }] },
);

export const scheduleRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { pool, queue, config } = services;

  const view = async (s: ScheduleRow) => {
    const scheduler = await queue.getJobScheduler(s.name).catch(() => undefined);
    return {
      name: s.name, cron: s.cron, everySeconds: s.everySeconds, timezone: s.timezone, job: s.spec,
      nextRunAt: scheduler?.next ? new Date(scheduler.next).toISOString() : null, createdAt: s.createdAt, updatedAt: s.updatedAt,
    };
  };

  app.post(
    '/schedules',
    {
      schema: {
        summary: 'Create or update a schedule',
        description: 'Runs `job` on a cron pattern (with an optional IANA timezone) or every N seconds. Jobs it creates are listed by GET /jobs?schedule=<name>.',
        body: scheduleBody,
        response: { 200: scheduleSchema, 201: scheduleSchema, 400: errorRef, 403: errorRef },
      },
    },
    async (req, reply) => {
      const { name, cron, everySeconds, timezone } = req.body;
      if (timezone && everySeconds) throw new IngestError('INVALID_SPEC', 'timezone applies to cron schedules only', { field: '/timezone' });
      if (timezone) {
        try {
          new Intl.DateTimeFormat('en', { timeZone: timezone });
        } catch {
          throw new IngestError('INVALID_SPEC', `timezone ${JSON.stringify(timezone)} is not an IANA time zone`, { field: '/timezone' });
        }
      }
      checkScheduleInterval({ cron, everySeconds, timezone }, config.scheduleMinIntervalSeconds);
      const spec = normalizeSpec(req.body.job);
      try {
        await checkSpec(services, spec);
      } catch (err) {
        if (err instanceof IngestError && typeof err.details?.field === 'string') {
          throw new IngestError(err.code, err.message, { ...err.details, field: `/job${err.details.field}` });
        }
        throw err;
      }
      const { row, created } = await withSchedulesLocked(pool, async (client) => {
        if ((await countSchedules(client, config.queueName, name)) >= config.scheduleMaxCount) {
          throw new IngestError(
            'SCHEDULE_LIMIT_REACHED',
            `${config.scheduleMaxCount} schedules exist already (SCHEDULE_MAX_COUNT); delete one before creating ${name}`,
            { field: '/name', limit: config.scheduleMaxCount },
          );
        }
        await upsertScheduler(name, cron, everySeconds, timezone);
        return upsertSchedule(client, {
          name, queue: config.queueName, cron: cron ?? null, everySeconds: everySeconds ?? null, timezone: timezone ?? null, spec,
        });
      });
      return reply.code(created ? 201 : 200).send(await view(row));
    },
  );

  /** The BullMQ job scheduler whose ticks store and queue the schedule's jobs. */
  const upsertScheduler = async (name: string, cron: string | undefined, everySeconds: number | undefined, timezone: string | undefined) => {
    try {
      await queue.upsertJobScheduler(
        // BullMQ types the scheduler id as a job name; it is any string.
        name as 'tick',
        cron ? { pattern: cron, ...(timezone ? { tz: timezone } : {}) } : { every: everySeconds! * 1000 },
        { name: 'tick' as const, data: { schedule: name }, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
      );
    } catch (err) {
      throw new IngestError('INVALID_SPEC', `the schedule was refused: ${(err as Error).message}`, { field: cron ? '/cron' : '/everySeconds' });
    }
  };

  app.get('/schedules', { schema: { summary: 'List schedules', response: { 200: Fields({ schedules: Type.Array(scheduleSchema) }) } } }, async () => ({
    schedules: await Promise.all((await listSchedules(pool, config.queueName)).map(view)),
  }));

  app.get(
    '/schedules/:name',
    { schema: { summary: 'One schedule', params: nameParams, response: { 200: scheduleSchema, 404: errorRef } } },
    async (req) => {
      const s = await getSchedule(pool, req.params.name);
      if (!s) throw new IngestError('SCHEDULE_NOT_FOUND', `no schedule ${req.params.name}`, { name: req.params.name });
      return view(s);
    },
  );

  app.delete(
    '/schedules/:name',
    { schema: { summary: 'Delete a schedule (its jobs stay)', params: nameParams, response: { 204: { description: 'The schedule was deleted', type: 'null' }, 404: errorRef } } },
    async (req, reply) => {
      await queue.removeJobScheduler(req.params.name);
      if (!(await deleteSchedule(pool, req.params.name))) throw new IngestError('SCHEDULE_NOT_FOUND', `no schedule ${req.params.name}`, { name: req.params.name });
      return reply.code(204).send(null);
    },
  );
};

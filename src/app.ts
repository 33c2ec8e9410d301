// The HTTP API as a Fastify instance: load shedding, token auth, validation, one error shape, and the
// route plugins. Also the worker's small metrics server.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import underPressure from '@fastify/under-pressure';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { IngestError, errorCodes } from './errors.js';
import { isRetryableDbError } from './db/sqlstate.js';
import { describeProblems, validatorCompiler } from './api/validation.js';
import { errorSchema } from './api/schemas.js';
import { clientErrorHandler, errorPayload, fastifyClientError, frameworkErrors } from './api/errorShape.js';
import { addTokenAuth } from './api/auth.js';
import { swaggerOptions } from './api/openapi.js';
import { adminRoutes } from './routes/admin.js';
import { metricsRoutes } from './routes/metrics.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { jobFileRoutes } from './routes/jobFiles.js';
import { tableRoutes } from './routes/tables.js';
import { uiRoutes } from './routes/ui.js';
import { scheduleRoutes } from './routes/schedules.js';
import { watchRoutes } from './routes/watches.js';
import { eventRoutes } from './routes/events.js';
import type { Services } from './services.js';

/** Requests waiting for a pooled database connection beyond which the API sheds load. */
const MAX_WAITING_FOR_CONNECTION = 50;
/** Routes that answer under pressure too: liveness (a busy process is not a dead one) and metrics. */
const ALWAYS_ANSWER = new Set(['/healthz', '/metrics']);

/**
 * The server's logger, as the logger type Fastify's own types are written for: given pino's type, the
 * instance would be a FastifyInstance of another logger type, which no plain FastifyInstance accepts.
 */
function serverLogger(services: Services, role: string): FastifyBaseLogger {
  return services.log.child({ role });
}

/**
 * What a request meets while the API is under pressure: OVERLOADED with Retry-After, except on the
 * routes that always answer. under-pressure sends what its handler returns (anything but a promise or
 * nullish, its README says) and types the handler as returning void; a function typed as returning
 * void may return a value, which is how the answer gets to it.
 */
const refuseUnderPressure: (req: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined) => void = (req, reply, type, value) => {
  if (req.routeOptions.url !== undefined && ALWAYS_ANSWER.has(req.routeOptions.url)) return undefined;
  const cause = type === 'healthCheck' ? `more than ${MAX_WAITING_FOR_CONNECTION} requests wait for a database connection` : `${type} is ${Math.round(value ?? 0)}`;
  const err = new IngestError('OVERLOADED', `the API is overloaded (${cause}); retry in 5 s`, { type });
  reply.code(err.status).header('Retry-After', 5);
  req.log.warn({ type, value }, 'under pressure: request refused');
  return { error: err.toJSON() };
};

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const server = Fastify({
    loggerInstance: serverLogger(services, 'api'),
    bodyLimit: 1024 * 1024,
    frameworkErrors,
    clientErrorHandler,
  });
  // The same instance, typed so that a route's request types come from its TypeBox schemas.
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  // Load shedding first, then auth: both are onRequest hooks at the root, so they cover every route.
  await app.register(underPressure, {
    maxEventLoopDelay: 1000,
    // Cheap: a counter the pool keeps, no I/O. A dependency that is down is /readyz's business.
    healthCheck: async () => services.pool.waitingCount < MAX_WAITING_FOR_CONNECTION,
    healthCheckInterval: 1000,
    retryAfter: 5,
    pressureHandler: refuseUnderPressure,
  });
  addTokenAuth(server, services.config.apiTokens);
  if (services.config.apiTokens.length === 0) app.log.warn('API_TOKENS is not set: the API accepts requests without a token');
  app.setValidatorCompiler(validatorCompiler);
  app.addSchema(errorSchema);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      const problems = describeProblems(err.validation);
      const inBody = err.validationContext === 'body';
      const code = inBody ? 'INVALID_SPEC' : 'INVALID_REQUEST';
      const first = problems[0];
      const message = problems.map((p) => `${p.field || '(root)'} ${p.reason}`).join('; ');
      return reply.code(400).send({
        error: { code, message: inBody ? `invalid job spec: ${message}` : `invalid ${err.validationContext}: ${message}`, details: { field: first?.field ?? '', reason: first?.reason ?? '', problems } },
      });
    }
    if (err instanceof IngestError) {
      return reply.code(err.status).send({ error: err.toJSON() });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors: malformed JSON, wrong content type, body too large.
      const { status, payload } = fastifyClientError(err, req.routeOptions.url === '/jobs' && req.method === 'POST');
      return reply.code(status).send(payload);
    }
    if (isRetryableDbError(err)) {
      // The database is away for a moment (a failover, a pooler restart): say so, and when to come back.
      req.log.warn({ err }, 'request failed: database unavailable');
      const unavailable = new IngestError('DATABASE_UNAVAILABLE', `the database is not reachable right now: ${err.message}; retry shortly`, {});
      return reply.code(503).header('retry-after', '5').send({ error: unavailable.toJSON() });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send(errorPayload('INTERNAL', `internal error: ${err.message}`));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorPayload('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  });

  await app.register(swagger, swaggerOptions(services.config));
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes, { services });
  await app.register(jobRoutes, { services });
  await app.register(jobFileRoutes, { services });
  await app.register(tableRoutes, { services });
  await app.register(metricsRoutes, { services, scrape: true });
  await app.register(adminRoutes, { services });
  await app.register(uiRoutes, { services });
  await app.register(scheduleRoutes, { services });
  await app.register(watchRoutes, { services });
  await app.register(eventRoutes, { services });
  return server;
}

/**
 * The worker role's HTTP server (METRICS_PORT): /healthz, and /metrics with this process's counters
 * (rows, bytes, runs, stage durations, open COPY streams), behind the same tokens as the API.
 */
export async function buildMetricsApp(services: Services): Promise<FastifyInstance> {
  const server = Fastify({ loggerInstance: serverLogger(services, 'worker-metrics'), frameworkErrors, clientErrorHandler });
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  addTokenAuth(server, services.config.apiTokens);
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorPayload('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(metricsRoutes, { services, scrape: false });
  return server;
}

export { errorCodes };

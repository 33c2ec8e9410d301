// The HTTP API as a Fastify instance: validation, one error shape, and the route plugins.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import { IngestError, errorCodes } from './errors.js';
import { describeProblems, validatorCompiler } from './api/validation.js';
import { errorSchema } from './api/schemas.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { tableRoutes } from './routes/tables.js';
import type { Services } from './service.js';

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.log.child({ role: 'api' }),
    bodyLimit: 1024 * 1024,
  });
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
      const code = req.routeOptions.url === '/jobs' && req.method === 'POST' ? 'INVALID_SPEC' : 'INVALID_REQUEST';
      return reply.code(err.statusCode).send({ error: { code, message: err.message, details: { fastifyCode: err.code } } });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: `internal error: ${err.message}` } });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } });
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'citus-ingest', version: '0.1.0', description: 'Load CSV files from S3 into PostgreSQL and Citus through COPY.' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes, { services });
  await app.register(jobRoutes, { services });
  await app.register(tableRoutes, { services });
  return app as unknown as FastifyInstance;
}

export { errorCodes };

// GET /metrics: Prometheus text format. The API serves this process's counters together with the
// gauges read at scrape time (jobs by status, queue depth); a worker's own metrics server serves its
// process counters only, so a sum over all targets counts each job once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Registry } from 'prom-client';
import { processRegistry, scrapeRegistry } from '../metrics.js';
import type { Services } from '../services.js';

export const metricsRoutes: FastifyPluginAsyncTypebox<{ services: Services; scrape: boolean }> = async (app, { services, scrape }) => {
  const registry = scrape
    ? Registry.merge([processRegistry, scrapeRegistry({ pool: services.pool, queue: services.queue, queueName: services.config.queueName, log: services.log })])
    : processRegistry;

  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (text exposition format)' } },
    async (_req, reply) => {
      const body = await registry.metrics();
      return reply.type(registry.contentType).send(body);
    },
  );
};

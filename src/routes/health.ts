// Liveness and readiness. /readyz checks every dependency a load needs.
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import type { FastifyPluginAsync } from 'fastify';
import { pendingMigrations } from '../db/migrate.js';
import type { Services } from '../service.js';

export const healthRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  app.get('/healthz', { schema: { summary: 'The process is up' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { summary: 'Database, Redis and object storage reachable, migrations applied' } }, async (_req, reply) => {
    const checks: Record<string, string> = {};
    const timeout = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out after 2 s')), 2000).unref())]);
    await Promise.all([
      timeout(pendingMigrations(services.pool)).then(
        (pending) => (checks.database = pending.length === 0 ? 'ok' : `migrations pending: ${pending.join(', ')}`),
        (err: Error) => (checks.database = `unreachable: ${err.message}`),
      ),
      timeout(services.queue.client.then((c) => (c as unknown as { ping(): Promise<string> }).ping())).then(
        () => (checks.redis = 'ok'),
        (err: Error) => (checks.redis = `unreachable: ${err.message}`),
      ),
      timeout(services.s3.send(new ListBucketsCommand({}))).then(
        () => (checks.objectStorage = 'ok'),
        (err: Error & { name?: string }) =>
          // Credentials limited to some buckets may not list them all; an answer still proves reachability.
          (checks.objectStorage = err.name === 'AccessDenied' ? 'ok' : `unreachable: ${err.message}`),
      ),
    ]);
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
};

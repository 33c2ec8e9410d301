// Liveness and readiness. /readyz checks every dependency a load needs. Probes reach it without a token,
// so by default it says only whether each dependency is up; why one is down (error text, which can name
// hosts and ports) goes to the log, and to a caller presenting a valid API token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { presentedToken, tokenChecker } from '../api/auth.js';
import { pendingMigrations } from '../db/migrate.js';
import type { Services } from '../services.js';
import { withTimeout } from '../timeout.js';
import { observeReadiness } from '../metrics.js';

type Check = { state: 'ok' } | { state: 'down' | 'migrations pending'; reason: string };

export const healthRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const validToken = services.config.apiTokens.length > 0 ? tokenChecker(services.config.apiTokens) : undefined;

  app.get('/healthz', { schema: { summary: 'The process is up' } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Database, Redis and object storage reachable, migrations applied',
        description: 'Each check is "ok", "down" or "migrations pending". With API_TOKENS set, a request carrying a valid token also gets `reasons` (the errors).',
      },
    },
    async (req, reply) => {
      const checks: Record<string, Check> = {};
      const timeout = <T>(p: Promise<T>): Promise<T> => withTimeout(p, 2000, () => new Error('timed out after 2 s'));
      await Promise.all([
        timeout(pendingMigrations(services.pool)).then(
          (pending) => (checks.database = pending.length === 0 ? { state: 'ok' } : { state: 'migrations pending', reason: `pending: ${pending.join(', ')}` }),
          (err: Error) => (checks.database = { state: 'down', reason: err.message }),
        ),
        timeout(services.queue.client.then((c) => (c as unknown as { ping(): Promise<string> }).ping())).then(
          () => (checks.redis = { state: 'ok' }),
          (err: Error) => (checks.redis = { state: 'down', reason: err.message }),
        ),
        // Every configured source: objectStorage for s3 (its name before there were others), source:<scheme> for the rest.
        ...services.sources.all.map((source) => {
          const name = source.scheme === 's3' ? 'objectStorage' : `source:${source.scheme}`;
          const probe = new AbortController();
          return timeout(source.ping(probe.signal)).then(
            () => (checks[name] = { state: 'ok' }),
            (err: Error) => {
              probe.abort();
              checks[name] = { state: 'down', reason: err.message };
            },
          );
        }),
      ]);
      const ready = Object.values(checks).every((c) => c.state === 'ok');
      observeReadiness(Object.fromEntries(Object.entries(checks).map(([name, c]) => [name, c.state === 'ok'])));
      const reasons = Object.fromEntries(Object.entries(checks).flatMap(([name, c]) => (c.state === 'ok' ? [] : [[name, c.reason]])));
      if (!ready) req.log.warn({ reasons }, 'not ready');
      const token = presentedToken(req.headers.authorization);
      const trusted = validToken !== undefined && token !== undefined && validToken(token);
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not ready',
        checks: Object.fromEntries(Object.entries(checks).map(([name, c]) => [name, c.state])),
        ...(trusted && !ready ? { reasons } : {}),
      });
    },
  );
};

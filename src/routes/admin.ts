// /admin/queues: bull-board over this service's BullMQ queue, to see what Redis holds (waiting, active,
// delayed, failed) and each queue job's attempts. Read-only: the job's state lives in PostgreSQL, so
// retrying or removing a queue entry here would go around the API (cancel a job with
// POST /jobs/:id/cancel; the reconciler re-enqueues jobs Redis lost).
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { reshapeForeignError } from '../api/errorShape.js';
import type { Services } from '../services.js';

export const ADMIN_QUEUES_PATH = '/admin/queues';

export const adminRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(services.queue, { readOnlyMode: true, description: `citus-ingest loads (prefix ${services.config.queuePrefix})` })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'citus-ingest' } },
  });
  // bull-board answers errors in its own shape ({ error: { key } }); they leave in the service's.
  app.addHook('onSend', reshapeForeignError);
  await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_QUEUES_PATH });
};

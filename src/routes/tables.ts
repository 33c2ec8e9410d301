// /tables/:name: a target's Citus facts (distributed, reference or local; distribution column, shard
// count, colocation group, size per node), and the operations on it that run as jobs: rebalance its
// shards over the workers, analyze it. Every one of them obeys the schema rule a load's target does.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { acceptedSchema, errorRef, tableFactsSchema } from '../api/schemas.js';
import { Nullable, OneOfStrings, Type } from '../api/typeboxKit.js';
import { specDefaults } from '../jobs/spec.js';
import { tableFacts } from '../sink/citus.js';
import type { Services } from '../services.js';
import { operationTable } from '../ops/operationTable.js';
import { submitTableOperation } from '../ops/submitTableOperation.js';

const nameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200, examples: ['public.uk_price'] }) });
const notify = Type.Optional(
  Type.Object(
    { url: Type.String({ pattern: '^https?://', maxLength: 2000, description: 'Receives a POST of the final job (signed with NOTIFY_SECRET).' }) },
    { additionalProperties: false },
  ),
);

export const tableRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/tables/:name',
    {
      schema: {
        summary: "A target table's Citus facts",
        description: 'A table in a schema no job may load into (the service\'s, PostgreSQL\'s, Citus\'s, or one outside TARGET_ALLOWED_SCHEMAS) is refused with 400 TARGET_FORBIDDEN, as are both operations on it, whether it exists or not.',
        params: nameParams,
        response: { 200: tableFactsSchema, 400: errorRef, 404: errorRef },
      },
    },
    async (req) => {
      const { oid } = await operationTable(services.pool, req.params.name, services.config.targetAllowedSchemas);
      return tableFacts(services.pool, oid, req.params.name);
    },
  );

  app.post(
    '/tables/:name/rebalance',
    {
      schema: {
        summary: "Rebalance a distributed table's shards over the workers, as a job",
        description:
          'Runs citus_rebalance_start() and follows citus_rebalance_status(): the job\'s progress counts shard moves done (progress.rowsLoaded) ' +
          'and bytes moved (progress.bytesRead); POST /jobs/:id/cancel calls citus_rebalance_stop(); result.layoutBefore and layoutAfter hold the shard layout and skew. ' +
          'Citus rebalances every colocation group that needs it, this table\'s among them.',
        params: nameParams,
        body: Nullable(
          Type.Object(
            {
              strategy: Type.Optional(OneOfStrings(['by_shard_count', 'by_disk_size'], { default: specDefaults.tableOperation.strategy })),
              drainOnly: Type.Optional(
                Type.Boolean({ default: specDefaults.tableOperation.drainOnly, description: 'Only move shards off nodes marked shouldhaveshards = false.' }),
              ),
              notify,
            },
            { additionalProperties: false },
          ),
        ),
        response: { 202: acceptedSchema, 400: errorRef, 404: errorRef, 422: errorRef },
      },
    },
    async (req, reply) => {
      const body = req.body ?? {};
      const row = await submitTableOperation(services, req.params.name, { kind: 'rebalance', strategy: body.strategy ?? specDefaults.tableOperation.strategy, drainOnly: body.drainOnly ?? specDefaults.tableOperation.drainOnly }, body.notify?.url);
      return reply.code(202).send({ id: row.id, status: row.status });
    },
  );

  app.post(
    '/tables/:name/analyze',
    {
      schema: {
        summary: 'ANALYZE a table (all its shards on Citus), as a job',
        params: nameParams,
        body: Nullable(Type.Object({ notify }, { additionalProperties: false })),
        response: { 202: acceptedSchema, 400: errorRef, 404: errorRef },
      },
    },
    async (req, reply) => {
      const row = await submitTableOperation(services, req.params.name, { kind: 'analyze' }, req.body?.notify?.url);
      return reply.code(202).send({ id: row.id, status: row.status });
    },
  );
};

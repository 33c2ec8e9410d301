// /tables/:name: a target's Citus facts (distributed, reference or local; distribution column, shard
// count, colocation group, size per node).
import type { FastifyPluginAsync } from 'fastify';
import { IngestError } from '../errors.js';
import { tableFactsSchema } from '../api/schemas.js';
import { tableFacts } from '../target/citus.js';
import { parseTableName, qualifiedName } from '../target/names.js';
import { tableOid } from '../target/prepareTarget.js';
import type { Services } from '../service.js';

export const tableRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  app.get<{ Params: { name: string } }>(
    '/tables/:name',
    {
      schema: {
        summary: "A target table's Citus facts",
        params: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 200, examples: ['public.uk_price'] } } },
        response: { 200: tableFactsSchema, 400: { $ref: 'Error#' }, 404: { $ref: 'Error#' } },
      },
    },
    async (req) => {
      let qualified: string;
      try {
        qualified = qualifiedName(parseTableName(req.params.name));
      } catch (err) {
        throw new IngestError('INVALID_REQUEST', `not a table name: ${(err as Error).message}`, { field: 'name' });
      }
      const oid = await tableOid(services.pool, qualified);
      if (oid === undefined) throw new IngestError('TABLE_NOT_FOUND', `no table ${req.params.name}`, { table: req.params.name });
      return tableFacts(services.pool, oid, req.params.name);
    },
  );
};

// The OpenAPI document as integrators consume it, added centrally to what the routes declare: an
// operationId per route from one table, the security each route needs, every error answer in the
// service's error shape (its `code` narrowed to the catalogue's codes of that status), the request
// examples, and the servers. Routes keep declaring their own bodies and success answers.
import type { FastifyDynamicSwaggerOptions, SwaggerTransform } from '@fastify/swagger';
import type { Config } from '../config.js';
import { errorCodes } from '../errors.js';
import { OPEN_ROUTES } from './auth.js';
import { jobExamples, scheduleExamples, type RequestExample } from './openapiExamples.js';
import { errorSchema } from './schemas.js';

interface Operation {
  /** The name generated clients give the call. */
  id: string;
  /** Answers the route gives that its schema does not declare (a probe's 503, text). */
  responses?: Record<number, unknown>;
  /** Named request examples. */
  examples?: Record<string, RequestExample>;
  /** The route checks its own credential (a watch's secret in the URL) instead of the API's token. */
  watchSecret?: boolean;
}

const anyObject = { type: 'object', additionalProperties: true } as const;
const probeAnswers = {
  health: { 200: { description: 'The process is up', type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } },
  ready: {
    200: { ...anyObject, description: "Every dependency answers; `checks` has each one's state." },
    503: { ...anyObject, description: 'A dependency is down or migrations are pending; `checks` says which.' },
  },
};
const webhookAllowed = { 200: { description: 'The CloudEvents webhook handshake: WebHook-Allowed-Origin names the sender', type: 'null' } };
const metricsText = { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } };

/**
 * Every documented route, by `METHOD url` as Fastify registers it. A route missing here has no
 * operationId, which test/openapi-contract.test.ts refuses: a new route must be named.
 */
export const operations: Record<string, Operation> = {
  'GET /healthz': { id: 'getHealth', responses: probeAnswers.health },
  'GET /readyz': { id: 'getReadiness', responses: probeAnswers.ready },
  'GET /metrics': { id: 'getMetrics', responses: metricsText },
  'POST /jobs': { id: 'createJob', examples: jobExamples },
  'GET /jobs': { id: 'listJobs' },
  'GET /jobs/:id': { id: 'getJob' },
  'POST /jobs/:id/cancel': { id: 'cancelJob' },
  'GET /jobs/:id/rejects': { id: 'listRejects' },
  'GET /jobs/:id/files': { id: 'listJobFiles' },
  'GET /tables/:name': { id: 'getTable' },
  'POST /tables/:name/rebalance': { id: 'rebalanceTable' },
  'POST /tables/:name/analyze': { id: 'analyzeTable' },
  'POST /schedules': { id: 'createSchedule', examples: scheduleExamples },
  'GET /schedules': { id: 'listSchedules' },
  'GET /schedules/:name': { id: 'getSchedule' },
  'DELETE /schedules/:name': { id: 'deleteSchedule' },
  'POST /watches': { id: 'createWatch' },
  'GET /watches': { id: 'listWatches' },
  'GET /watches/:name': { id: 'getWatch' },
  'DELETE /watches/:name': { id: 'deleteWatch' },
  'POST /events/:provider': { id: 'receiveEvents' },
  'POST /events/:provider/:watch': { id: 'receiveWatchEvents', watchSecret: true },
  'OPTIONS /events/azure': { id: 'validateAzureWebhook', responses: webhookAllowed },
  'OPTIONS /events/azure/:watch': { id: 'validateAzureWatchWebhook', watchSecret: true, responses: webhookAllowed },
};

/** Either scheme will do: a token as bearer, or as the Basic password. */
const security: Array<Record<string, string[]>> = [{ bearer: [] }, { basic: [] }];

/** The error shape with `code` narrowed to the catalogue's codes of one HTTP status. */
function errorResponse(status: number): Record<string, unknown> {
  const codes = Object.entries(errorCodes).filter(([, c]) => c.status === status).map(([code]) => code);
  const { $id: _id, ...shape } = errorSchema;
  const error = shape.properties.error;
  return {
    ...shape,
    description: `The error shape; \`error.code\` is one of ${codes.join(', ')} (docs/errors.md).`,
    properties: { error: { ...error, properties: { ...error.properties, code: { type: 'string', enum: codes } } } },
  };
}

/** The error statuses a route can answer, from what it takes and whether it needs a token. */
function errorStatuses(schema: Record<string, unknown>, open: boolean): number[] {
  // Refused before routing, so any route: a request that arrives too slowly, headers too large.
  const statuses = new Set([408, 431, 500]);
  for (const key of Object.keys((schema.response as object | undefined) ?? {})) if (Number(key) >= 400) statuses.add(Number(key));
  if (!open) statuses.add(401).add(503); // 503: load shedding (OVERLOADED), the database away.
  if (schema.body) statuses.add(400).add(413).add(415);
  if (schema.querystring || schema.params) statuses.add(400);
  if (schema.params) statuses.add(414);
  return [...statuses].filter((s) => Object.values(errorCodes).some((c) => c.status === s));
}

/** @fastify/swagger's per-route transform: names the operation and adds its security, errors and examples. */
export const documentRoute: SwaggerTransform = ({ schema, url, route }) => {
  const method = [route.method].flat()[0] ?? '';
  if (!schema || schema.hide || method === 'HEAD') return { schema, url };
  const operation = operations[`${method} ${url}`];
  const open = OPEN_ROUTES.has(url);
  const s = schema as Record<string, unknown>;
  const response: Record<string, unknown> = { ...(s.response as object | undefined), ...operation?.responses };
  for (const status of errorStatuses(s, open)) response[status] = errorResponse(status);
  const named = operation ? { operationId: operation.id } : {};
  const needs = open ? [] : operation?.watchSecret ? [{ watchSecret: [] }] : security;
  return { url, schema: { ...schema, ...named, security: needs, response, ...withExamples(s.body, operation?.examples) } };
};

/**
 * The body with named examples (x-examples becomes the media type's `examples`) in place of the
 * schema's own one, since a media type may have `example` or `examples`, not both.
 */
function withExamples(body: unknown, examples: Record<string, RequestExample> | undefined): { body?: unknown } {
  if (!body) return {};
  if (!examples) return { body };
  const { examples: _one, ...rest } = body as Record<string, unknown>;
  return { body: { ...rest, 'x-examples': examples } };
}

/** Where the service answers, from HOST and PORT (a wildcard address is reached as localhost). */
function serverUrl(config: Config): string {
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

/** @fastify/swagger's options: OpenAPI 3.1, the schemes, the servers, components named by `$id`. */
export function swaggerOptions(config: Config): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'citus-ingest',
        version: '0.1.0',
        description: 'Load CSV, JSON Lines and Parquet files from object storage into PostgreSQL and Citus through COPY, exactly once.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: serverUrl(config), description: 'This service, as HOST and PORT configure it' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'One of API_TOKENS. Without API_TOKENS the service accepts requests without a token.' },
          basic: { type: 'http', scheme: 'basic', description: 'Any user name, one of API_TOKENS as the password (what a browser can send).' },
          watchSecret: { type: 'apiKey', in: 'query', name: 'secret', description: "A watch's own secret, for event senders that cannot set headers (docs/watches.md)." },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: documentRoute,
  };
}

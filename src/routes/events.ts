// /events: where object stores send their notifications. POST /events/s3 (S3, MinIO's webhook target,
// EventBridge API destinations), /events/gcs (Pub/Sub push) and /events/azure (Event Grid, CloudEvents)
// take the API token and match every watch; /events/<provider>/<watch>?secret=... takes the watch's own
// secret, for senders that cannot set headers, and concerns that watch only. An event no watch holds is
// accepted (2xx, so the sender does not retry it for ever) and counted as ignored.
import type { FastifyPluginAsyncTypebox, Static } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { presentedToken, tokenChecker } from '../api/auth.js';
import { AnyObject, Fields, OneOfStrings, Type } from '../api/typeboxKit.js';
import { errorRef } from '../api/schemas.js';
import { IngestError } from '../errors.js';
import { getWatch, listWatches, type WatchRow } from '../sql/watches.js';
import { parseAzureEvents } from '../watches/azureEvents.js';
import { deliverEvents } from '../watches/deliver.js';
import { parseGcsEvents } from '../watches/gcsEvents.js';
import type { ObjectEvent, Provider } from '../watches/objectEvent.js';
import { parseS3Events } from '../watches/s3Events.js';
import { secretMatches } from '../watches/secret.js';
import { watchNamePattern } from '../watches/watchSpec.js';
import type { Services } from '../services.js';


/** Each provider's payload as object events, or Event Grid's validation code to echo. */
const parsers: Record<Provider, (body: unknown) => { events: ObjectEvent[]; validationCode?: string }> = {
  s3: (body) => ({ events: parseS3Events(body) }),
  gcs: (body) => ({ events: parseGcsEvents(body) }),
  azure: parseAzureEvents,
};

const deliverySchema = Fields({
  received: Type.Integer(),
  matched: Type.Integer(),
  ignored: Type.Integer(),
  jobs: Type.Array(Fields({ watch: Type.String(), id: Type.String(), created: Type.Boolean(), url: Type.String() })),
  refused: Type.Array(Fields({ watch: Type.String(), url: Type.String(), error: AnyObject() })),
  validationResponse: Type.String(),
});

const provider = OneOfStrings(['s3', 'gcs', 'azure'] satisfies Provider[]);
const watchName = Type.String({ pattern: watchNamePattern });
const providerParams = Type.Object({ provider });
const watchParams = Type.Object({ provider, watch: watchName });
const azureWatchParams = Type.Object({ watch: watchName });
const secretQuery = Type.Object({ secret: Type.Optional(Type.String({ maxLength: 200 })) });

/** What a request to a watch's own event URL (POST or OPTIONS) presents: the watch, its secret, a token. */
interface Addressed {
  params: Static<typeof azureWatchParams>;
  query: Static<typeof secretQuery>;
  headers: FastifyRequest['headers'];
}

export const eventRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { pool, config } = services;
  const validToken = config.apiTokens.length > 0 ? tokenChecker(config.apiTokens) : undefined;
  // CloudEvents arrive as application/cloudevents+json (one) or application/cloudevents-batch+json.
  app.addContentTypeParser(['application/cloudevents+json', 'application/cloudevents-batch+json'], { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  /** The watch an addressed URL names, when the request carries its secret (or an API token); else 401. */
  const addressedWatch = async (req: Addressed): Promise<WatchRow> => {
    const watch = await getWatch(pool, config.queueName, req.params.watch);
    const token = presentedToken(req.headers.authorization);
    const byToken = token !== undefined && validToken !== undefined && validToken(token);
    // An unknown watch and a wrong secret answer alike: the URL tells nothing to whoever guesses it.
    if (!watch || !(byToken || secretMatches(req.query.secret, watch.secretSha256))) {
      throw new IngestError('UNAUTHORIZED', `this event URL needs the watch's secret (?secret=...) or an API token`, {});
    }
    return watch;
  };

  const deliver = async (provider: Provider, body: unknown, watches: WatchRow[], addressed: boolean, reply: FastifyReply) => {
    const { events, validationCode } = parsers[provider](body);
    if (validationCode !== undefined) return reply.code(200).send({ validationResponse: validationCode });
    return reply.code(200).send(await deliverEvents(services, provider, events, watches, addressed));
  };

  app.post(
    '/events/:provider',
    {
      schema: {
        summary: 'Object events from a store, matched against every watch',
        description: 'Takes the provider\'s own notification payload: s3 (S3, MinIO, EventBridge), gcs (Pub/Sub push), azure (Event Grid, CloudEvents); see docs/watches.md. Needs the API token.',
        params: providerParams,
        response: { 200: deliverySchema, 400: errorRef, 401: errorRef },
      },
    },
    async (req, reply) => deliver(req.params.provider, req.body, await listWatches(pool, config.queueName), false, reply),
  );
  app.post(
    '/events/:provider/:watch',
    {
      config: { ownAuth: true },
      schema: {
        summary: 'Object events from a store, for one watch',
        description: 'For senders that cannot set an Authorization header: the watch\'s secret is in the URL (?secret=...).',
        params: watchParams,
        querystring: secretQuery,
        response: { 200: deliverySchema, 400: errorRef, 401: errorRef },
      },
    },
    async (req, reply) => deliver(req.params.provider, req.body, [await addressedWatch(req)], true, reply),
  );

  // The CloudEvents webhook handshake Event Grid makes before it delivers CloudEvents to an endpoint.
  const handshake = (req: FastifyRequest, reply: FastifyReply) => {
    const origin = req.headers['webhook-request-origin'];
    if (typeof origin !== 'string' || origin === '') {
      throw new IngestError('INVALID_EVENT', 'a CloudEvents validation request carries WebHook-Request-Origin', { provider: 'azure', field: 'WebHook-Request-Origin', reason: 'is missing' });
    }
    return reply.code(200).header('WebHook-Allowed-Origin', origin).header('WebHook-Allowed-Rate', '*').send();
  };
  app.options('/events/azure', { schema: { summary: 'CloudEvents webhook validation (Event Grid)' } }, async (req, reply) => handshake(req, reply));
  app.options(
    '/events/azure/:watch',
    { config: { ownAuth: true }, schema: { summary: 'CloudEvents webhook validation for one watch', params: azureWatchParams, querystring: secretQuery } },
    async (req, reply) => {
      await addressedWatch(req);
      return handshake(req, reply);
    },
  );
};

// Token authentication for the HTTP API. With API_TOKENS set, every route but the probes needs
// `Authorization: Bearer <token>`, or HTTP Basic whose password is a token (what a browser can send to
// the dashboard, the queue board and the API docs). Tokens are compared as SHA-256 digests with
// timingSafeEqual, so neither the length nor the content of a token leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { IngestError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route checks its own credential (an event URL carrying a watch's secret); the token check skips it. Default false. */
    ownAuth?: boolean;
  }
}

/** Routes a probe must reach without credentials. */
export const OPEN_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/** Paths a person opens in a browser: a 401 there (or to any request for HTML) asks for Basic credentials. */
const BROWSER_PATHS = /^\/(ui|admin\/queues|docs)(\/|$)/;

export const AUTH_REALM = 'citus-ingest';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The credential an Authorization header carries: a Bearer token, or a Basic password. */
export function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^(\S+)\s+(.+)$/.exec(header.trim());
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const value = match[2]!.trim();
  if (scheme === 'bearer') return value;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

/** Checks tokens in constant time: every configured token is compared, whichever matches. */
export function tokenChecker(tokens: readonly string[]): (presented: string) => boolean {
  const known = tokens.map(digest);
  return (presented) => {
    const candidate = digest(presented);
    let ok = false;
    for (const k of known) ok = timingSafeEqual(k, candidate) || ok;
    return ok;
  };
}

function challenge(req: FastifyRequest, reply: FastifyReply): void {
  const path = req.url.split('?')[0] ?? '';
  const browser = BROWSER_PATHS.test(path) || /\btext\/html\b/.test(req.headers.accept ?? '');
  const scheme = browser ? 'Basic' : 'Bearer';
  reply.header('WWW-Authenticate', `${scheme} realm="${AUTH_REALM}"${scheme === 'Basic' ? ', charset="UTF-8"' : ''}`);
}

/**
 * Adds the check as a root onRequest hook, so it covers every route registered on `app` or its
 * plugins (bull-board, the swagger UI) and unknown paths too. No tokens: nothing is added.
 */
export function addTokenAuth(app: FastifyInstance, tokens: readonly string[]): void {
  if (tokens.length === 0) return;
  const valid = tokenChecker(tokens);
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.url !== undefined && OPEN_ROUTES.has(req.routeOptions.url)) return;
    // A route that checks its own credential (an event URL carrying a watch's secret) does so itself.
    if (req.routeOptions.config?.ownAuth) return;
    const token = presentedToken(req.headers.authorization);
    if (token !== undefined && valid(token)) return;
    const err = new IngestError(
      'UNAUTHORIZED',
      token === undefined
        ? 'this API needs a token: send Authorization: Bearer <token> (or HTTP Basic with the token as the password)'
        : 'the token is not valid for this API',
    );
    req.log.info({ url: req.url.split('?')[0], reason: token === undefined ? 'missing' : 'invalid' }, 'unauthorized request');
    challenge(req, reply);
    return reply.code(err.status).send({ error: err.toJSON() });
  });
}

// What the request log shows of a request: Fastify's fields, with the values of the query string's
// secret parameters replaced. A token sent as ?token= (which the API refuses: tokens go in the
// Authorization header) must not be written to the log as it came.

/** A URL query parameter whose value is a secret, by its name (`?token=`, `?password=`, `?api_key=`). */
export const SECRET_PARAM = /pass|secret|token|key|auth|signature|credential/i;

/** A request's path and query with the values of secret parameters replaced, the rest as it came. */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url.slice(q + 1).split('&').map((param) => {
    const eq = param.indexOf('=');
    const name = eq < 0 ? param : param.slice(0, eq);
    let decoded = name;
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // A malformed escape: the name as it came is tested.
    }
    return SECRET_PARAM.test(decoded) ? `${name}=redacted` : param;
  });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/**
 * The fields Fastify logs for a request, with the query's secrets redacted. Anything else logged as
 * `req` (no method and url) is left as it is, for the logger's redaction paths.
 */
export function requestForLog(req: LoggedRequest): unknown {
  if (typeof req?.url !== 'string' || typeof req.method !== 'string') return req;
  return { method: req.method, url: redactQuery(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}


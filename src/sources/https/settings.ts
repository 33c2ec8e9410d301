// The https:// source's settings. An open fetcher is a server-side request forgery waiting to happen,
// so https sources are off until HTTPS_ALLOWED_HOSTS names the hosts jobs may read from.
// config.ts calls this with the environment and turns a thrown Error into a ConfigError (importing
// ConfigError here would make config.ts and this module import each other).
import { parseAllowList } from '../../net/outbound/policy.js';

export interface HttpsSettings {
  /**
   * Hosts jobs may read from, from HTTPS_ALLOWED_HOSTS (comma-separated `host` or `host:port`, as the URL
   * spells them: lower case, no default port, IPv6 in brackets). A redirect is followed only to these.
   * An entry that is an IP address (with the URL's port) also lets that address through the
   * special-address check (loopback, private, link-local...), which refuses everything else
   * (net/outbound/policy.ts). No default: unset, there is no https source.
   */
  allowedHosts: string[];
  /** Whether http:// URLs are read too (HTTPS_ALLOW_PLAIN_HTTP). Default false. */
  allowPlainHttp: boolean;
}

/** The https:// settings in `env`, or undefined when HTTPS_ALLOWED_HOSTS is unset or empty (https sources are off). */
export function httpsSettings(env: Readonly<Record<string, string | undefined>>): HttpsSettings | undefined {
  const allowedHosts = parseAllowList('HTTPS_ALLOWED_HOSTS', env.HTTPS_ALLOWED_HOSTS);
  const plain = (env.HTTPS_ALLOW_PLAIN_HTTP ?? '').trim().toLowerCase();
  if (!['', 'true', 'false', '1', '0'].includes(plain)) {
    throw new Error(`invalid configuration: HTTPS_ALLOW_PLAIN_HTTP must be true or false, not ${JSON.stringify(env.HTTPS_ALLOW_PLAIN_HTTP)}`);
  }
  if (allowedHosts.length === 0) return undefined;
  return { allowedHosts, allowPlainHttp: plain === 'true' || plain === '1' };
}

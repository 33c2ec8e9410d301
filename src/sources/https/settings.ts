// The https:// source's settings. An open fetcher is a server-side request forgery waiting to happen,
// so https sources are off until HTTPS_ALLOWED_HOSTS names the hosts jobs may read from.
// config.ts calls this with the environment and turns a thrown Error into a ConfigError (importing
// ConfigError here would make config.ts and this module import each other).

export interface HttpsSettings {
  /**
   * Hosts jobs may read from, from HTTPS_ALLOWED_HOSTS (comma-separated `host` or `host:port`, as the URL
   * spells them: lower case, no default port, IPv6 in brackets). A redirect is followed only to these.
   * An entry that is an IP address also lets that address through the special-address check (loopback,
   * private, link-local...), which refuses everything else. No default: unset, there is no https source.
   */
  allowedHosts: string[];
  /** Whether http:// URLs are read too (HTTPS_ALLOW_PLAIN_HTTP). Default false. */
  allowPlainHttp: boolean;
}

/** The https:// settings in `env`, or undefined when HTTPS_ALLOWED_HOSTS is unset or empty (https sources are off). */
export function httpsSettings(env: Readonly<Record<string, string | undefined>>): HttpsSettings | undefined {
  const allowedHosts = (env.HTTPS_ALLOWED_HOSTS ?? '').split(',').map((entry) => entry.trim()).filter(Boolean).map(normalizeHost);
  const plain = (env.HTTPS_ALLOW_PLAIN_HTTP ?? '').trim().toLowerCase();
  if (!['', 'true', 'false', '1', '0'].includes(plain)) {
    throw new Error(`invalid configuration: HTTPS_ALLOW_PLAIN_HTTP must be true or false, not ${JSON.stringify(env.HTTPS_ALLOW_PLAIN_HTTP)}`);
  }
  if (allowedHosts.length === 0) return undefined;
  return { allowedHosts, allowPlainHttp: plain === 'true' || plain === '1' };
}

/** An allow-list entry as URL.host would spell it, or an Error naming the entry. */
function normalizeHost(entry: string): string {
  let url: URL;
  try {
    url = new URL(`https://${entry}/`);
  } catch {
    throw new Error(`invalid configuration: HTTPS_ALLOWED_HOSTS entry ${JSON.stringify(entry)} is not a host or host:port`);
  }
  if (url.username !== '' || url.password !== '' || url.hostname === '' || url.pathname !== '/' || /[/?#@]/.test(entry)) {
    throw new Error(`invalid configuration: HTTPS_ALLOWED_HOSTS entry ${JSON.stringify(entry)} is not a host or host:port`);
  }
  // URLs drop their default port (443 for https://, 80 for http://), and so does the entry.
  return url.port === '80' ? url.hostname : url.host;
}

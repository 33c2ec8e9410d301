// Where a completion callback may go: the outbound policy (net/outbound) under NOTIFY_ALLOWED_HOSTS.
// notify.url must be http(s) and carry no credentials; any host may be called, but every address it
// stands for must be public unless NOTIFY_ALLOWED_HOSTS names that address with the URL's port, as
// HTTPS_ALLOWED_HOSTS does: a callback must not reach the service's own API, the cloud metadata
// endpoint or the internal network. Checked when a job is submitted (400), and again at each delivery
// when the connection is made, to the address just checked.
import { IngestError } from './errors.js';
import { OutboundPolicy, type Resolver } from './net/outbound/policy.js';
import { unbracketed } from './net/specialAddresses.js';

export type { Resolver } from './net/outbound/policy.js';

export interface NotifyTarget {
  url: URL;
  /** The host as the URL names it, without IPv6 brackets. */
  host: string;
  /** The first of the host's addresses, all of them checked. */
  address: string;
}

function refuse(reason: string): IngestError {
  // The URL itself stays out of the message: it may carry a token in its query.
  return new IngestError('NOTIFY_URL_FORBIDDEN', `notify.url: ${reason}`, { field: '/notify/url', reason });
}

/** The callbacks' outbound policy: any host, and special addresses only as NOTIFY_ALLOWED_HOSTS names them. */
export function callbackPolicy(allowedHosts: readonly string[], resolve?: Resolver): OutboundPolicy {
  return new OutboundPolicy({
    listName: 'NOTIFY_ALLOWED_HOSTS',
    allowedHosts,
    reach: 'public',
    allowPlainHttp: true,
    credentialsHint: 'authenticate the callback with its signature (NOTIFY_SECRET)',
    refuse,
    ...(resolve ? { resolve } : {}),
  });
}

/** notify.url parsed, or NOTIFY_URL_FORBIDDEN when it is not a URL. */
export function parseNotifyUrl(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw refuse('is not a valid URL');
  }
}

/**
 * Checks notify.url and returns the address a delivery would connect to. Throws NOTIFY_URL_FORBIDDEN
 * for a URL that must not be called, INVALID_SPEC for a host that does not resolve.
 */
export async function checkNotifyUrl(
  raw: string,
  allowedHosts: readonly string[],
  opts: { resolve?: Resolver } = {},
): Promise<NotifyTarget> {
  const url = parseNotifyUrl(raw);
  const policy = callbackPolicy(allowedHosts, opts.resolve);
  policy.checkUrl(url);
  const host = unbracketed(url.hostname);
  let addresses: string[];
  try {
    addresses = await policy.addresses(url);
  } catch (err) {
    if (policy.isRefusal(err)) throw err;
    throw new IngestError('INVALID_SPEC', `notify.url: host ${host} does not resolve`, { field: '/notify/url', reason: 'host does not resolve' }, { cause: err });
  }
  return { url, host, address: addresses[0]! };
}

// Where a completion callback may go. notify.url must be http(s), carry no credentials, and its host
// must resolve to public addresses only, unless NOTIFY_ALLOWED_HOSTS names the host or the address: a
// callback must not reach the service's own API, the cloud metadata endpoint or the internal network.
// Checked when a job is submitted (400) and again before each delivery, which then connects to the
// address it checked, so a DNS answer that changes in between cannot redirect the POST.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { IngestError } from './errors.js';
import { isSpecialAddress, unbracketed } from './net/specialAddresses.js';

export interface NotifyTarget {
  url: URL;
  /** The host as the URL names it, without IPv6 brackets. */
  host: string;
  /** The checked address to connect to. */
  address: string;
}

export type Resolver = (host: string) => Promise<string[]>;

const resolveAll: Resolver = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

function refuse(reason: string): IngestError {
  // The URL itself stays out of the message: it may carry a token in its query.
  return new IngestError('NOTIFY_URL_FORBIDDEN', `notify.url ${reason}`, { field: '/notify/url', reason });
}

/**
 * Checks notify.url and returns the address to connect to. Throws NOTIFY_URL_FORBIDDEN for a URL that
 * must not be called; a host that does not resolve throws `unresolved` (an IngestError INVALID_SPEC at
 * submit time, a plain retryable failure at delivery time, since DNS can come back).
 */
export async function checkNotifyUrl(
  raw: string,
  allowedHosts: readonly string[],
  opts: { resolve?: Resolver; unresolved?: (host: string, err: unknown) => Error } = {},
): Promise<NotifyTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('must be an http:// or https:// URL');
  if (url.username !== '' || url.password !== '') {
    throw refuse('must not carry credentials (user:password@); authenticate the callback with its signature (NOTIFY_SECRET)');
  }
  // URL has already turned 0x7f000001, 2130706433, 0177.0.0.1 and 127.1 into 127.0.0.1.
  const host = unbracketed(url.hostname).toLowerCase();
  const bare = host.endsWith('.') ? host.slice(0, -1) : host;
  const hostAllowed = allowedHosts.includes(host) || allowedHosts.includes(bare);
  let addresses: string[];
  if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    try {
      addresses = await (opts.resolve ?? resolveAll)(host);
    } catch (err) {
      throw (opts.unresolved ?? defaultUnresolved)(host, err);
    }
    if (addresses.length === 0) throw (opts.unresolved ?? defaultUnresolved)(host, new Error('no address'));
  }
  for (const address of addresses) {
    if (hostAllowed || allowedHosts.includes(address.toLowerCase())) continue;
    if (isSpecialAddress(address)) {
      const named = address === host ? `host ${address}` : `host ${host} resolves to ${address}, which`;
      throw refuse(`${named} is a loopback, private, link-local or other special address; callbacks go to public addresses unless NOTIFY_ALLOWED_HOSTS names the host`);
    }
  }
  return { url, host, address: addresses[0]! };
}

function defaultUnresolved(host: string): Error {
  return new IngestError('INVALID_SPEC', `notify.url: host ${host} does not resolve`, { field: '/notify/url', reason: 'host does not resolve' });
}

// Which hosts and addresses the service may call out to: one rule for https:// sources
// (HTTPS_ALLOWED_HOSTS) and for completion callbacks (NOTIFY_ALLOWED_HOSTS). A list holds `host` or
// `host:port` entries, spelled as a URL's host is (lower case, no default port, IPv6 in brackets).
// A connection may go to a loopback, private, link-local or other special address only when the list
// names that address with the URL's port: naming a host never lets through the addresses it resolves to.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isSpecialAddress, unbracketed } from '../specialAddresses.js';

/** Every address a host name stands for. */
export type Resolver = (host: string) => Promise<string[]>;

const systemResolver: Resolver = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

export interface OutboundPolicyOptions {
  /** The variable the list comes from (HTTPS_ALLOWED_HOSTS, NOTIFY_ALLOWED_HOSTS), named in refusals. */
  listName: string;
  /** Entries as parseAllowList returns them. */
  allowedHosts: readonly string[];
  /**
   * 'listed': only a host the list names may be requested (an allow-list: https sources).
   * 'public': any host may, and the list only adds the special addresses it names (callbacks).
   */
  reach: 'listed' | 'public';
  /** Whether http:// URLs may be requested as well as https:// ones. */
  allowPlainHttp: boolean;
  /** The setting that turns plain http on, named when an http:// URL is refused. */
  plainHttpSetting?: string;
  /** Why credentials in a URL are refused, and what to do instead. */
  credentialsHint: string;
  /** Builds the error a refused URL or address throws (its code, its field). */
  refuse: (reason: string, details: { host: string; address?: string }) => Error;
  /** Names to addresses. Default: the system resolver (dns.lookup, every address). */
  resolve?: Resolver;
}

/** An allow-list entry as URL.host spells it, or an Error naming the variable and the entry. */
function normalizeEntry(listName: string, raw: string): string {
  // A bare IPv6 address cannot be read as host:port; it stands for itself, in brackets.
  const entry = isIP(raw) === 6 ? `[${raw}]` : raw;
  const invalid = () => new Error(`invalid configuration: ${listName} entry ${JSON.stringify(raw)} is not a host or host:port`);
  let url: URL;
  try {
    url = new URL(`https://${entry}/`);
  } catch {
    throw invalid();
  }
  if (url.username !== '' || url.password !== '' || url.hostname === '' || url.pathname !== '/' || /[/?#@]/.test(entry)) throw invalid();
  // URLs drop their default port (443 for https://, 80 for http://), and so does the entry.
  return url.port === '80' ? url.hostname : url.host;
}

/** The entries of a comma-separated list (`host` or `host:port`); throws an Error naming `listName` for a bad one. */
export function parseAllowList(listName: string, raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((entry) => entry.trim()).filter(Boolean).map((entry) => normalizeEntry(listName, entry));
}

/** How an address is written in a list entry: IPv6 in brackets, then the port unless it is the default. */
function entryFor(address: string, url: URL): string {
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return url.port ? `${host}:${url.port}` : host;
}

export class OutboundPolicy {
  private readonly resolver: Resolver;
  private readonly refusals = new WeakSet<Error>();

  constructor(private readonly o: OutboundPolicyOptions) {
    this.resolver = o.resolve ?? systemResolver;
  }

  private refuse(reason: string, details: { host: string; address?: string }): Error {
    const err = this.o.refuse(reason, details);
    this.refusals.add(err);
    return err;
  }

  /** Whether `err` is one of this policy's refusals (as opposed to a network failure). */
  isRefusal(err: unknown): boolean {
    return err instanceof Error && this.refusals.has(err);
  }

  /** Throws the refusal unless `url` may be requested at all: its scheme, credentials and host. */
  checkUrl(url: URL, redirectedFrom?: URL): void {
    const via = redirectedFrom ? ` (a redirect from ${redirectedFrom.host})` : '';
    const refuse = (reason: string) => this.refuse(reason, { host: url.host });
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw refuse(`${url.protocol}//${url.host}${via} is not an https:// or http:// URL; nothing was requested from it`);
    }
    if (url.protocol === 'http:' && !this.o.allowPlainHttp) {
      const turnOn = this.o.plainHttpSetting ? `, or set ${this.o.plainHttpSetting}=true to allow it` : '';
      throw refuse(`http://${url.host}${via}: plain http:// is off; use https://${turnOn}`);
    }
    if (url.username !== '' || url.password !== '') throw refuse(`${url.host}${via}: the URL carries credentials; ${this.o.credentialsHint}`);
    if (this.o.reach === 'listed' && !this.o.allowedHosts.includes(url.host)) {
      const listed = this.o.allowedHosts.length > 0 ? ` (${this.o.allowedHosts.join(', ')})` : ' (empty)';
      throw refuse(`host ${url.host}${via} is not in ${this.o.listName}${listed}; nothing was requested from it`);
    }
  }

  /** Whether a connection for `url` may go to `address`: a public one, or one the list names with the URL's port. */
  addressPermitted(address: string, url: URL): boolean {
    return !isSpecialAddress(address) || this.o.allowedHosts.includes(entryFor(address, url));
  }

  /**
   * The addresses `url`'s host stands for (an IP literal stands for itself), every one checked: one
   * that may not be reached throws the refusal. A name that does not resolve throws the resolver's
   * error, or an Error when it resolves to nothing: a DNS failure, which may pass.
   */
  async addresses(url: URL): Promise<string[]> {
    const host = unbracketed(url.hostname);
    const addresses = isIP(host) !== 0 ? [host] : await this.resolver(host);
    if (addresses.length === 0) throw new Error(`host ${url.host} has no address`);
    const refused = addresses.find((address) => !this.addressPermitted(address, url));
    if (refused !== undefined) {
      const named = refused === host ? `host ${url.host}` : `host ${url.host} resolves to ${refused}, which`;
      throw this.refuse(
        `${named} is a loopback, private, link-local or other special address; nothing was requested from it. To reach it anyway, add ${entryFor(refused, url)} to ${this.o.listName}`,
        { host: url.host, address: refused },
      );
    }
    return addresses;
  }
}

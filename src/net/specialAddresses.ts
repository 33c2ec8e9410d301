// Which IP addresses a request out of the service (an https source, a callback) must not reach unless
// its allow-list names them (net/outbound/policy.ts): loopback, private, link-local, unspecified,
// multicast, documentation and the other special-purpose ranges (IANA's IPv4 and IPv6 special-purpose
// registries), plus the IPv6 forms that carry an IPv4 address inside (mapped, compatible, NAT64, 6to4).
import { BlockList, isIP } from 'node:net';

const IPV4_SPECIAL: ReadonlyArray<[string, number]> = [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 included
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast included
];

const IPV6_SPECIAL: ReadonlyArray<[string, number]> = [
  ['::', 96], // unspecified, loopback and IPv4-compatible addresses
  ['64:ff9b::', 96], // NAT64
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments, Teredo included
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const special = new BlockList();
for (const [network, prefix] of IPV4_SPECIAL) special.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of IPV6_SPECIAL) special.addSubnet(network, prefix, 'ipv6');
// IPv4-mapped IPv6 (::ffff:0:0/96) is refused whatever IPv4 address it carries. It has a list of its
// own: BlockList matches IPv4 addresses against IPv6 rules in their mapped form, so in `special` it
// would take in every IPv4 address.
const mapped = new BlockList();
mapped.addSubnet('::ffff:0:0', 96, 'ipv6');

/** A URL's host name without the brackets of an IPv6 literal (`[::1]` -> `::1`); any other name as it is. */
export function unbracketed(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

/** True when `address` (an IPv4 or IPv6 literal, IPv6 without brackets) is in a special-purpose range. */
export function isSpecialAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) throw new TypeError(`not an IP address: ${address}`);
  if (family === 6 && mapped.check(address, 'ipv6')) return true;
  return special.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

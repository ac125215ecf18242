import { isIPv4, isIPv6 } from 'node:net';

/**
 * What kind of destination an IP address is, as far as outbound requests are concerned.
 * Only `public` is a place on the internet; `loopback`, `private`, `link_local` and `shared`
 * (CGNAT) are this machine or its networks; the rest are never valid unicast destinations.
 */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'shared'
  | 'metadata'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'documentation'
  | 'benchmark'
  | 'reserved'
  | 'invalid';

/** Classes that `KILN_WEBHOOK_ALLOW_PRIVATE=true` lets through: this host and its networks. */
export const PRIVATE_CLASSES: ReadonlySet<AddressClass> = new Set(['loopback', 'private', 'link_local', 'shared']);

/**
 * Cloud instance-metadata and platform endpoints. Most sit inside ranges refused anyway; they are
 * named so that allowing private addresses never opens them, and because two are outside any such
 * range (Azure's WireServer is a public address).
 */
const METADATA_V4 = new Set([
  '169.254.169.254', // AWS, GCP, Azure, DigitalOcean, OpenStack… instance metadata
  '169.254.169.253', // AWS VPC DNS
  '169.254.169.123', // AWS time sync
  '169.254.170.2', // AWS ECS task metadata
  '169.254.0.23', // Tencent Cloud
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud
  '168.63.129.16', // Azure WireServer
]);
const METADATA_V6 = ['fd00:ec2::254', 'fd00:ec2::23'].map((a) => parseIPv6(a)!.join(':'));

const V4_RANGES: [string, number, AddressClass][] = [
  ['0.0.0.0', 8, 'unspecified'], // "this network"; 0.0.0.0 itself reaches the local host on Linux
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared'], // RFC 6598 carrier-grade NAT
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link_local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmark'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'broadcast'],
  ['240.0.0.0', 4, 'reserved'],
].map(([base, bits, cls]) => [base as string, bits as number, cls as AddressClass]);

/**
 * Classifies an IPv4 or IPv6 address (no brackets; a `%zone` suffix is ignored). IPv6 forms that
 * carry an IPv4 address — mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, SIIT, NAT64 well-known
 * prefix `64:ff9b::/96` and 6to4 `2002::/16` — are judged by the IPv4 address they reach, so
 * `::ffff:127.0.0.1` is loopback and `64:ff9b::a9fe:a9fe` is the metadata service.
 *
 * @example classifyAddress('10.1.2.3') // 'private'
 */
export function classifyAddress(address: string): AddressClass {
  const plain = address.split('%')[0]!;
  if (isIPv4(plain)) return classifyV4(v4ToInt(plain));
  if (isIPv6(plain)) {
    const words = parseIPv6(plain);
    return words ? classifyV6(words) : 'invalid';
  }
  return 'invalid';
}

function v4ToInt(a: string): number {
  return a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

const intToV4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

function classifyV4(n: number): AddressClass {
  if (METADATA_V4.has(intToV4(n))) return 'metadata';
  for (const [base, bits, cls] of V4_RANGES) {
    const size = 2 ** (32 - bits);
    const start = v4ToInt(base);
    if (n >= start && n < start + size) return cls;
  }
  return 'public';
}

/** The 8 16-bit words of an IPv6 address, or null when it is not one. */
function parseIPv6(address: string): number[] | null {
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part stands for the last two words.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    if (!isIPv4(dotted[1]!)) return null;
    const n = v4ToInt(dotted[1]!);
    text = `${text.slice(0, -dotted[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const words = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? head.length !== 8 : fill < 1) return null;
  const all = [...head, ...Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  return all.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? all : null;
}

/** The top `bits` of `w` equal those of `prefix` (both as 8 words). */
function inPrefix(w: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((w[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
}

const P = (a: string) => parseIPv6(a)!;
const embeddedV4 = (hi: number, lo: number) => classifyV4(hi * 65536 + lo);

function classifyV6(w: number[]): AddressClass {
  if (METADATA_V6.includes(w.join(':'))) return 'metadata';
  if (w.every((x) => x === 0)) return 'unspecified';
  if (w.slice(0, 7).every((x) => x === 0) && w[7] === 1) return 'loopback';
  if (inPrefix(w, P('::ffff:0:0'), 96)) return embeddedV4(w[6]!, w[7]!); // IPv4-mapped
  if (inPrefix(w, P('::ffff:0:0:0'), 96)) return embeddedV4(w[6]!, w[7]!); // SIIT (RFC 2765)
  if (inPrefix(w, P('::'), 96)) return embeddedV4(w[6]!, w[7]!); // IPv4-compatible (deprecated)
  // NAT64: the well-known prefix reaches the embedded IPv4 address through a translator, so it
  // is exactly as allowed as that address. Local-use NAT64 prefixes are the operator's network.
  if (inPrefix(w, P('64:ff9b::'), 96)) return embeddedV4(w[6]!, w[7]!);
  if (inPrefix(w, P('64:ff9b:1::'), 48)) return 'private';
  if (inPrefix(w, P('2002::'), 16)) return embeddedV4(w[1]!, w[2]!); // 6to4
  if (inPrefix(w, P('100::'), 64)) return 'reserved'; // discard-only
  if (inPrefix(w, P('2001:2::'), 48)) return 'benchmark';
  if (inPrefix(w, P('2001:db8::'), 32) || inPrefix(w, P('3fff::'), 20)) return 'documentation';
  // Teredo hides its client's IPv4 address; ORCHID is not routable.
  if (inPrefix(w, P('2001::'), 32) || inPrefix(w, P('2001:10::'), 28) || inPrefix(w, P('2001:20::'), 28)) return 'reserved';
  if (inPrefix(w, P('fc00::'), 7)) return 'private'; // unique local
  if (inPrefix(w, P('fe80::'), 10)) return 'link_local';
  if (inPrefix(w, P('fec0::'), 10)) return 'private'; // deprecated site-local
  if (inPrefix(w, P('ff00::'), 8)) return 'multicast';
  // Only 2000::/3 is allocated as global unicast; anything else is not a place on the internet.
  if (!inPrefix(w, P('2000::'), 3)) return 'reserved';
  return 'public';
}

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';

import ipaddr from 'ipaddr.js';

import { FetchError } from './fetch-error.js';

/**
 * SSRF protection. A URL is parsed with the WHATWG parser (which already folds decimal, octal, hex
 * and short IPv4 spellings into dotted quads), its host is resolved once, every address is checked
 * against an {@link AddressPolicy}, and the caller must then connect only to those checked addresses
 * ({@link pinnedLookup}), so a second DNS answer (rebinding) can never be used.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has. Injectable so that tests control DNS. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

// ---------------------------------------------------------------------------------------------
// Address classification

/** Metadata endpoints of cloud providers: refused even when private addresses are allowed. */
const CLOUD_METADATA = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
  '169.254.170.2', // AWS ECS task metadata
  '100.100.100.200', // Alibaba Cloud
  'fd00:ec2::254', // AWS IMDS over IPv6
]);

const RANGE_LABELS: Record<string, string> = {
  loopback: 'loopback',
  private: 'private network',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique local IPv6',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  reserved: 'reserved',
  ipv4Mapped: 'IPv4-mapped IPv6',
  ipv4Compatible: 'IPv4-compatible IPv6',
  rfc6145: 'IPv4-translated IPv6',
  rfc6052: 'NAT64',
  '6to4': '6to4',
  teredo: 'Teredo',
  discard: 'discard-only IPv6',
  deprecatedSiteLocal: 'site-local IPv6',
  benchmarking: 'benchmarking',
};

export interface AddressClass {
  /** The address in canonical form (RFC 5952 for IPv6). */
  address: string;
  /** ipaddr.js range name (`unicast` for public addresses), or `ipv4Compatible`. */
  range: string;
  /** The IPv4 address embedded in an IPv4-mapped, -compatible, NAT64, 6to4 or Teredo IPv6 address. */
  embeddedIPv4?: string;
  /** True only for globally routable unicast addresses. */
  isPublic: boolean;
  isCloudMetadata: boolean;
  /** Human-readable range, e.g. `loopback` or `IPv4-mapped IPv6 of 127.0.0.1`. */
  label: string;
}

function embeddedIPv4(ip: ipaddr.IPv6, range: string): string | undefined {
  const p = ip.parts;
  const low = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]).toString();
  switch (range) {
    case 'ipv4Mapped':
    case 'rfc6145':
    case 'rfc6052':
    case 'ipv4Compatible':
      return low(p[6] ?? 0, p[7] ?? 0);
    case '6to4':
      return low(p[1] ?? 0, p[2] ?? 0);
    case 'teredo':
      // The client address is stored inverted in the last 32 bits.
      return low(~(p[6] ?? 0) & 0xffff, ~(p[7] ?? 0) & 0xffff);
    default:
      return undefined;
  }
}

/**
 * Rewrites a dotted IPv4 tail (`::127.0.0.1`, as inet_ntop prints IPv4-compatible addresses) into
 * hex groups: ipaddr.js would otherwise read every `::a.b.c.d` as IPv4-mapped.
 */
function hexTail(address: string): string {
  const match = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (!match) return address;
  const [a = 0, b = 0, c = 0, d = 0] = match.slice(2).map(Number);
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** Classifies one IP address (throws on anything that is not an IP literal). */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 0) throw new FetchError('REFUSED', `refused: "${address}" is not an IP address`);
  const ip = ipaddr.parse(family === 6 ? hexTail(address) : address);
  let range: string = ip.range();
  let canonical: string;
  let embedded: string | undefined;
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    canonical = v6.toRFC5952String();
    const p = v6.parts;
    // ::a.b.c.d (deprecated IPv4-compatible) is not in ipaddr.js's table and would count as unicast.
    if (range === 'unicast' && p.slice(0, 6).every((part) => part === 0)) range = 'ipv4Compatible';
    embedded = embeddedIPv4(v6, range);
  } else {
    canonical = ip.toString();
  }
  const isCloudMetadata = CLOUD_METADATA.has(canonical) || (embedded !== undefined && CLOUD_METADATA.has(embedded));
  const base = RANGE_LABELS[range] ?? range;
  const label = embedded === undefined ? base : `${base} of ${embedded}`;
  return { address: canonical, range, embeddedIPv4: embedded, isPublic: range === 'unicast', isCloudMetadata, label };
}

// ---------------------------------------------------------------------------------------------
// Host lists (an allow-list and a deny-list, e.g. FETCH_ALLOWED_HOSTS, FETCH_DENIED_HOSTS)

type HostRule =
  | { kind: 'exact'; host: string }
  | { kind: 'subdomains'; suffix: string }
  | { kind: 'cidr'; network: [ipaddr.IPv4 | ipaddr.IPv6, number] };

/** Lowercases, strips IPv6 brackets and a trailing dot, so that `Example.COM.` and `example.com` match. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

function canonicalIp(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  // process() turns ::ffff:a.b.c.d into a.b.c.d, so an IPv4 rule also covers its mapped spelling.
  return ipaddr.process(isIP(address) === 6 ? hexTail(address) : address);
}

const HOST_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** Parses one list entry: `host.example`, `*.example.com`, an IP address or a CIDR range. */
export function parseHostRule(entry: string): HostRule {
  const raw = normalizeHost(entry);
  if (raw.includes('/') && isIP(raw.slice(0, raw.indexOf('/'))) !== 0) {
    if (!ipaddr.isValidCIDR(raw)) throw new Error(`"${entry}" is not a valid CIDR range`);
    return { kind: 'cidr', network: ipaddr.parseCIDR(raw) };
  }
  if (isIP(raw) !== 0) {
    const ip = canonicalIp(raw);
    return { kind: 'cidr', network: [ip, ip.kind() === 'ipv4' ? 32 : 128] };
  }
  const wildcard = raw.startsWith('*.');
  const name = wildcard ? raw.slice(2) : raw;
  if (name.length === 0 || name.length > 253 || !name.split('.').every((label) => HOST_LABEL.test(label))) {
    throw new Error(`"${entry}" is not a host name, *.domain wildcard, IP address or CIDR range (no scheme or path)`);
  }
  return wildcard ? { kind: 'subdomains', suffix: `.${name}` } : { kind: 'exact', host: name };
}

export interface HostList {
  /** True when the (normalised) host name matches a name or wildcard rule, or is an IP literal in a range. */
  matchesHost(host: string): boolean;
  /** True when the address is inside an IP or CIDR rule. */
  matchesAddress(address: string): boolean;
  readonly size: number;
}

export function createHostList(entries: readonly string[]): HostList {
  const rules = entries.map(parseHostRule);
  const inCidr = (address: string) => {
    if (isIP(address) === 0) return false;
    const ip = canonicalIp(address);
    return rules.some((rule) => rule.kind === 'cidr' && rule.network[0].kind() === ip.kind() && ip.match(rule.network));
  };
  return {
    size: rules.length,
    matchesHost(host) {
      const h = normalizeHost(host);
      if (isIP(h) !== 0) return inCidr(h);
      return rules.some(
        (rule) => (rule.kind === 'exact' && rule.host === h) || (rule.kind === 'subdomains' && h.endsWith(rule.suffix)),
      );
    },
    matchesAddress: inCidr,
  };
}

// ---------------------------------------------------------------------------------------------
// Policy

export type AddressDecision = { allowed: true } | { allowed: false; reason: string };

export interface AddressTarget {
  /** The host as written in the URL, normalised. */
  host: string;
  port: number;
  /** One address the host resolved to (or the host itself when it is an IP literal). */
  address: string;
}

/**
 * Decides what may be connected to. Production code builds it from config only
 * ({@link createAddressPolicy}); nothing in this module can widen it.
 */
export interface AddressPolicy {
  /** Checked before DNS: a denied name is never even resolved. */
  checkHost(host: string): AddressDecision;
  /** Checked for every address the host resolved to, before connecting. */
  checkAddress(target: AddressTarget): AddressDecision;
}

export interface AddressPolicyOptions {
  allowPrivate: boolean;
  allowedHosts: readonly string[];
  deniedHosts: readonly string[];
  /** The settings the refusals tell the operator to change (each user of the guard has its own). */
  settings?: Partial<PolicySettingNames>;
}

export interface PolicySettingNames {
  /** A boolean setting that allows private addresses, or undefined when there is none. */
  allowPrivate: string | undefined;
  allowedHosts: string;
  deniedHosts: string;
}

const DEFAULT_SETTINGS: PolicySettingNames = {
  allowPrivate: 'FETCH_ALLOW_PRIVATE',
  allowedHosts: 'FETCH_ALLOWED_HOSTS',
  deniedHosts: 'FETCH_DENIED_HOSTS',
};

function describeTarget(target: AddressTarget, cls: AddressClass): string {
  return target.host === cls.address || normalizeHost(target.host) === cls.address
    ? `${target.host} is`
    : `${target.host} resolves to`;
}

export function createAddressPolicy(options: AddressPolicyOptions): AddressPolicy {
  const allowed = createHostList(options.allowedHosts);
  const denied = createHostList(options.deniedHosts);
  const names = { ...DEFAULT_SETTINGS, ...options.settings };
  const howToAllow = names.allowPrivate
    ? `set ${names.allowPrivate}=true to allow`
    : `list the host in ${names.allowedHosts} to allow`;
  return {
    checkHost(host) {
      if (denied.matchesHost(host))
        return { allowed: false, reason: `refused: ${host} is listed in ${names.deniedHosts}` };
      return { allowed: true };
    },
    checkAddress(target) {
      const cls = classifyAddress(target.address);
      if (denied.matchesAddress(cls.address)) {
        return {
          allowed: false,
          reason: `refused: ${describeTarget(target, cls)} ${cls.address}, which is listed in ${names.deniedHosts}`,
        };
      }
      if (cls.isPublic) return { allowed: true };
      // An operator's explicit allow-list entry wins, even for a metadata address.
      if (allowed.matchesHost(target.host) || allowed.matchesAddress(cls.address)) return { allowed: true };
      if (cls.isCloudMetadata) {
        return {
          allowed: false,
          reason:
            `refused: ${describeTarget(target, cls)} a cloud metadata address (${cls.address}); ` +
            `list it in ${names.allowedHosts} if you really mean to fetch it`,
        };
      }
      if (options.allowPrivate) return { allowed: true };
      return {
        allowed: false,
        reason: `refused: ${describeTarget(target, cls)} a private address (${cls.address}, ${cls.label}); ${howToAllow}`,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The guard

export interface CheckedTarget {
  url: URL;
  /** Normalised host (no brackets, no trailing dot). */
  host: string;
  port: number;
  /** Every address the host resolved to, all checked: the connection must use only these. */
  addresses: ResolvedAddress[];
}

export interface SsrfGuard {
  /** Parses a URL and checks what can be checked without the network (scheme, credentials). */
  parseUrl(input: string | URL): URL;
  /** Resolves the URL's host and checks every address; throws FetchError('REFUSED' | 'DNS'). */
  check(url: URL): Promise<CheckedTarget>;
}

export interface SsrfGuardOptions {
  policy: AddressPolicy;
  resolver?: Resolver;
}

export function createSsrfGuard({ policy, resolver = systemResolver }: SsrfGuardOptions): SsrfGuard {
  function parseUrl(input: string | URL): URL {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new FetchError('INVALID_INPUT', `not a valid absolute URL: ${JSON.stringify(String(input).slice(0, 200))}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new FetchError('REFUSED', `refused: only http and https URLs are fetched (got ${url.protocol})`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new FetchError(
        'INVALID_INPUT',
        'URLs with embedded credentials are not accepted; pass an Authorization header instead',
      );
    }
    if (url.hostname === '') throw new FetchError('INVALID_INPUT', `URL has no host: ${url.href}`);
    return url;
  }

  async function check(url: URL): Promise<CheckedTarget> {
    const host = normalizeHost(url.hostname);
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    const hostDecision = policy.checkHost(host);
    if (!hostDecision.allowed) throw new FetchError('REFUSED', hostDecision.reason);

    let addresses: ResolvedAddress[];
    const literal = isIP(host);
    if (literal !== 0) {
      addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
    } else {
      try {
        addresses = await resolver(host);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new FetchError('DNS', `could not resolve host ${host}${code ? ` (${code})` : ''}`, { cause: error });
      }
      if (addresses.length === 0) throw new FetchError('DNS', `could not resolve host ${host} (no addresses)`);
    }

    // Every address must pass: a name with one public and one private address is refused as a whole.
    for (const resolved of addresses) {
      const decision = policy.checkAddress({ host, port, address: resolved.address });
      if (!decision.allowed) throw new FetchError('REFUSED', decision.reason);
    }
    return { url, host, port, addresses };
  }

  return { parseUrl, check };
}

/**
 * A `lookup` for net/tls.connect that answers only with already-checked addresses and never asks DNS.
 * Passed to undici's connector, it pins the socket (plain or TLS) to what the guard approved while
 * SNI and certificate checks still use the host name.
 */
export function pinnedLookup(target: Pick<CheckedTarget, 'host' | 'addresses'>): LookupFunction {
  return (hostname, options, callback) => {
    const fail = (message: string) => {
      const error: NodeJS.ErrnoException = new Error(message);
      error.code = 'ENOTFOUND';
      callback(error, '', 0);
    };
    if (normalizeHost(hostname) !== target.host) {
      fail(`pinned lookup for ${target.host} was asked for ${hostname}`);
      return;
    }
    const wanted =
      options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    const usable = wanted === 0 ? target.addresses : target.addresses.filter((a) => a.family === wanted);
    const first = usable[0];
    if (first === undefined) {
      fail(`no checked IPv${wanted} address for ${hostname}`);
      return;
    }
    if (options.all === true)
      callback(
        null,
        usable.map((a) => ({ address: a.address, family: a.family })),
      );
    else callback(null, first.address, first.family);
  };
}

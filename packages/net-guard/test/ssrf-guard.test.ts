import type { LookupAddress } from 'node:dns';

import { describe, expect, it } from 'vitest';

import { FetchError } from '../src/fetch-error.js';
import {
  classifyAddress,
  createAddressPolicy,
  createHostList,
  createSsrfGuard,
  parseHostRule,
  pinnedLookup,
} from '../src/ssrf-guard.js';
import { tableResolver as testResolver } from '../src/table-resolver.js';

const defaults = { allowPrivate: false, allowedHosts: [], deniedHosts: [] };
const target = (address: string, host = 'example.test', port = 443) => ({ host, port, address });

function refusal(fn: () => unknown): FetchError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FetchError);
    return error as FetchError;
  }
  throw new Error('expected a refusal');
}

async function refusalOf(promise: Promise<unknown>): Promise<FetchError> {
  const error: unknown = await promise.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FetchError);
  return error as FetchError;
}

describe('parseUrl', () => {
  const guard = createSsrfGuard({ policy: createAddressPolicy(defaults), resolver: testResolver({}).resolver });

  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://0177.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://127.0.1/', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://①②⑦.0.0.1/', '127.0.0.1'],
    ['http://127.0.0.1%2e/', '127.0.0.1'],
    ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', '[::ffff:7f00:1]'],
    ['http://[::127.0.0.1]/', '[::7f00:1]'],
    ['http://0xa9fea9fe/', '169.254.169.254'],
    ['http://LOCALHOST./', 'localhost.'],
  ])('normalises %s to host %s', (input, host) => {
    expect(guard.parseUrl(input).hostname).toBe(host);
  });

  it.each(['file:///etc/passwd', 'ftp://example.com/', 'gopher://example.com/', 'data:text/plain,x', 'ws://x/'])(
    'refuses the scheme of %s',
    (input) => {
      const error = refusal(() => guard.parseUrl(input));
      expect(error.kind).toBe('REFUSED');
      expect(error.message).toMatch(/^refused: only http and https URLs are fetched \(got [a-z]+:\)$/);
    },
  );

  it('refuses embedded credentials and non-URLs', () => {
    expect(refusal(() => guard.parseUrl('http://user:pass@example.com/')).message).toMatch(/embedded credentials/);
    expect(refusal(() => guard.parseUrl('http://public.test@127.0.0.1/')).kind).toBe('INVALID_INPUT');
    expect(refusal(() => guard.parseUrl('not a url')).kind).toBe('INVALID_INPUT');
    expect(refusal(() => guard.parseUrl('/relative/path')).message).toMatch(/not a valid absolute URL/);
  });
});

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['169.254.0.1', 'linkLocal'],
    ['169.254.169.254', 'linkLocal'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['febf::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'ipv4Mapped'],
    ['::ffff:10.0.0.1', 'ipv4Mapped'],
    ['::ffff:8.8.8.8', 'ipv4Mapped'],
    ['::127.0.0.1', 'ipv4Compatible'],
    ['::10.0.0.1', 'ipv4Compatible'],
    ['64:ff9b::7f00:1', 'rfc6052'],
    ['64:ff9b::a9fe:a9fe', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
    ['2002:a00:1::1', '6to4'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'teredo'],
    ['2001:db8::1', 'reserved'],
    ['100::1', 'discard'],
    ['fec0::1', 'deprecatedSiteLocal'],
  ])('%s is %s and not public', (address, range) => {
    const cls = classifyAddress(address);
    expect(cls.range).toBe(range);
    expect(cls.isPublic).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450::1'])(
    '%s is public unicast',
    (address) => {
      const cls = classifyAddress(address);
      expect(cls).toMatchObject({ range: 'unicast', isPublic: true, isCloudMetadata: false });
    },
  );

  it('finds the IPv4 address embedded in IPv6 forms', () => {
    expect(classifyAddress('::ffff:7f00:1').embeddedIPv4).toBe('127.0.0.1');
    expect(classifyAddress('::7f00:1').embeddedIPv4).toBe('127.0.0.1');
    expect(classifyAddress('64:ff9b::a00:1').embeddedIPv4).toBe('10.0.0.1');
    expect(classifyAddress('2002:c0a8:101::').embeddedIPv4).toBe('192.168.1.1');
    expect(classifyAddress('2001:0:4136:e378:8000:63bf:80ff:fffe').embeddedIPv4).toBe('127.0.0.1');
  });

  it('recognises cloud metadata in every spelling', () => {
    for (const address of [
      '169.254.169.254',
      '169.254.170.2',
      '100.100.100.200',
      'fd00:ec2::254',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      '64:ff9b::a9fe:a9fe',
      '2002:a9fe:a9fe::',
      '::169.254.169.254',
    ]) {
      expect(classifyAddress(address).isCloudMetadata, address).toBe(true);
    }
    expect(classifyAddress('169.254.169.253').isCloudMetadata).toBe(false);
  });

  it('rejects what is not an IP address', () => {
    expect(refusal(() => classifyAddress('example.com')).kind).toBe('REFUSED');
    expect(refusal(() => classifyAddress('127.1')).kind).toBe('REFUSED');
  });
});

describe('createAddressPolicy (defaults)', () => {
  const policy = createAddressPolicy(defaults);

  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.5',
    '192.168.0.10',
    '100.64.1.1',
    '169.254.1.1',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.251',
    '240.1.1.1',
    '::1',
    '::',
    'fe80::abcd',
    'fd00::2',
    'ff05::1',
    '::ffff:127.0.0.1',
    '::ffff:192.168.0.1',
    '::127.0.0.1',
    '64:ff9b::c0a8:1',
    '2002:c0a8:1::1',
  ])('refuses %s with a message naming the address and the switch', (address) => {
    const decision = policy.checkAddress(target(address, 'evil.test'));
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) {
      expect(decision.reason).toMatch(/^refused: evil\.test resolves to a private address \(/);
      expect(decision.reason).toContain(classifyAddress(address).address);
      expect(decision.reason).toMatch(/set FETCH_ALLOW_PRIVATE=true to allow$/);
    }
  });

  it('says exactly what was refused', () => {
    expect(policy.checkAddress(target('127.0.0.1', 'evil.test'))).toEqual({
      allowed: false,
      reason:
        'refused: evil.test resolves to a private address (127.0.0.1, loopback); set FETCH_ALLOW_PRIVATE=true to allow',
    });
    expect(policy.checkAddress(target('::ffff:7f00:1', '::ffff:7f00:1'))).toEqual({
      allowed: false,
      reason:
        'refused: ::ffff:7f00:1 is a private address (::ffff:7f00:1, IPv4-mapped IPv6 of 127.0.0.1); set FETCH_ALLOW_PRIVATE=true to allow',
    });
  });

  it('refuses cloud metadata with its own message', () => {
    const decision = policy.checkAddress(target('169.254.169.254', 'metadata.google.internal'));
    expect(decision).toEqual({
      allowed: false,
      reason:
        'refused: metadata.google.internal resolves to a cloud metadata address (169.254.169.254); list it in FETCH_ALLOWED_HOSTS if you really mean to fetch it',
    });
  });

  it('allows public addresses', () => {
    for (const address of ['8.8.8.8', '2606:4700:4700::1111']) {
      expect(policy.checkAddress(target(address))).toEqual({ allowed: true });
    }
    expect(policy.checkHost('example.com')).toEqual({ allowed: true });
  });
});

describe('createAddressPolicy (operator settings)', () => {
  it('FETCH_ALLOW_PRIVATE allows private ranges but still not cloud metadata', () => {
    const policy = createAddressPolicy({ ...defaults, allowPrivate: true });
    for (const address of ['127.0.0.1', '10.0.0.1', '::1', 'fd12::1', '::ffff:192.168.1.1']) {
      expect(policy.checkAddress(target(address)).allowed, address).toBe(true);
    }
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '::ffff:169.254.169.254', '100.100.100.200']) {
      expect(policy.checkAddress(target(address)).allowed, address).toBe(false);
    }
  });

  it('FETCH_ALLOWED_HOSTS lets the listed hosts (and only them) resolve to private addresses', () => {
    const policy = createAddressPolicy({
      ...defaults,
      allowedHosts: ['intranet.corp', '*.svc.local', '10.9.0.0/16', '169.254.169.254'],
    });
    expect(policy.checkAddress(target('10.1.1.1', 'intranet.corp')).allowed).toBe(true);
    expect(policy.checkAddress(target('10.1.1.1', 'api.svc.local')).allowed).toBe(true);
    expect(policy.checkAddress(target('10.1.1.1', 'svc.local')).allowed).toBe(false);
    expect(policy.checkAddress(target('10.1.1.1', 'other.corp')).allowed).toBe(false);
    expect(policy.checkAddress(target('10.9.3.4', 'anything.test')).allowed).toBe(true);
    expect(policy.checkAddress(target('10.10.3.4', 'anything.test')).allowed).toBe(false);
    expect(policy.checkAddress(target('169.254.169.254', 'metadata')).allowed).toBe(true);
  });

  it('FETCH_DENIED_HOSTS wins over everything, by name before DNS and by address after', () => {
    const policy = createAddressPolicy({
      allowPrivate: true,
      allowedHosts: ['blocked.example'],
      deniedHosts: ['blocked.example', '*.ads.example', '8.8.8.0/24', '2001:4860::/32'],
    });
    expect(policy.checkHost('blocked.example')).toEqual({
      allowed: false,
      reason: 'refused: blocked.example is listed in FETCH_DENIED_HOSTS',
    });
    expect(policy.checkHost('x.ads.example').allowed).toBe(false);
    expect(policy.checkHost('BLOCKED.EXAMPLE.').allowed).toBe(false);
    expect(policy.checkHost('8.8.8.8').allowed).toBe(false);
    expect(policy.checkHost('ads.example').allowed).toBe(true);
    expect(policy.checkAddress(target('8.8.8.8', 'dns.example'))).toEqual({
      allowed: false,
      reason: 'refused: dns.example resolves to 8.8.8.8, which is listed in FETCH_DENIED_HOSTS',
    });
    expect(policy.checkAddress(target('::ffff:8.8.8.9', 'mapped.example')).allowed).toBe(false);
    expect(policy.checkAddress(target('2001:4860:4860::8888', 'v6.example')).allowed).toBe(false);
    expect(policy.checkAddress(target('8.8.4.4', 'dns.example')).allowed).toBe(true);
  });
});

describe('host lists', () => {
  it('parses names, wildcards, addresses and ranges', () => {
    expect(parseHostRule('Example.COM.')).toEqual({ kind: 'exact', host: 'example.com' });
    expect(parseHostRule('*.example.com')).toEqual({ kind: 'subdomains', suffix: '.example.com' });
    expect(parseHostRule('10.0.0.0/8').kind).toBe('cidr');
    expect(parseHostRule('[::1]').kind).toBe('cidr');
    const list = createHostList(['fd00::/8', '192.168.0.0/16']);
    expect(list.matchesAddress('fd00::2')).toBe(true);
    expect(list.matchesAddress('::ffff:192.168.3.4')).toBe(true);
    expect(list.matchesAddress('fe80::1')).toBe(false);
    expect(list.matchesHost('[fd00::5]')).toBe(true);
  });

  it.each(['http://example.com', 'exa mple.com', '10.0.0.0/33', '*.', '-bad.example', 'a/b'])(
    'rejects the entry %j',
    (entry) => {
      expect(() => parseHostRule(entry)).toThrow(/is not/);
    },
  );
});

describe('createSsrfGuard.check', () => {
  it('checks IP literals without asking DNS', async () => {
    const dns = testResolver({});
    const guard = createSsrfGuard({ policy: createAddressPolicy(defaults), resolver: dns.resolver });
    const error = await refusalOf(guard.check(guard.parseUrl('http://0x7f.1:8080/admin')));
    expect(error.kind).toBe('REFUSED');
    expect(error.message).toBe(
      'refused: 127.0.0.1 is a private address (127.0.0.1, loopback); set FETCH_ALLOW_PRIVATE=true to allow',
    );
    const v6 = await refusalOf(guard.check(guard.parseUrl('http://[::ffff:169.254.169.254]/latest/meta-data/')));
    expect(v6.message).toMatch(/cloud metadata address \(::ffff:a9fe:a9fe\)/);
    const ok = await guard.check(guard.parseUrl('https://8.8.8.8/'));
    expect(ok).toMatchObject({ host: '8.8.8.8', port: 443, addresses: [{ address: '8.8.8.8', family: 4 }] });
    expect(dns.calls).toEqual([]);
  });

  it('refuses a name when any one of its addresses is private', async () => {
    const dns = testResolver({ 'mixed.test': ['8.8.8.8', '10.0.0.7'], 'good.test': ['8.8.8.8', '2606:4700::1'] });
    const guard = createSsrfGuard({ policy: createAddressPolicy(defaults), resolver: dns.resolver });
    const error = await refusalOf(guard.check(guard.parseUrl('http://mixed.test/')));
    expect(error.message).toContain('mixed.test resolves to a private address (10.0.0.7, private network)');
    const ok = await guard.check(guard.parseUrl('http://good.test:8080/x'));
    expect(ok.port).toBe(8080);
    expect(ok.addresses).toEqual([
      { address: '8.8.8.8', family: 4 },
      { address: '2606:4700::1', family: 6 },
    ]);
  });

  it('reports DNS failures and empty answers as DNS errors', async () => {
    const dns = testResolver({ 'empty.test': [] });
    const guard = createSsrfGuard({ policy: createAddressPolicy(defaults), resolver: dns.resolver });
    const missing = await refusalOf(guard.check(guard.parseUrl('http://nx.test/')));
    expect(missing).toMatchObject({ kind: 'DNS', message: 'could not resolve host nx.test (ENOTFOUND)' });
    const empty = await refusalOf(guard.check(guard.parseUrl('http://empty.test/')));
    expect(empty).toMatchObject({ kind: 'DNS', message: 'could not resolve host empty.test (no addresses)' });
  });

  it('never resolves a denied name', async () => {
    const dns = testResolver({ 'blocked.test': ['8.8.8.8'] });
    const policy = createAddressPolicy({ ...defaults, deniedHosts: ['blocked.test'] });
    const guard = createSsrfGuard({ policy, resolver: dns.resolver });
    expect((await refusalOf(guard.check(guard.parseUrl('http://blocked.test/')))).kind).toBe('REFUSED');
    expect(dns.calls).toEqual([]);
  });

  it('refuses a resolver answer that is not an IP address', async () => {
    const dns = testResolver({ 'weird.test': ['not-an-ip'] });
    const guard = createSsrfGuard({ policy: createAddressPolicy(defaults), resolver: dns.resolver });
    expect((await refusalOf(guard.check(guard.parseUrl('http://weird.test/')))).message).toMatch(/not an IP address/);
  });
});

describe('pinnedLookup', () => {
  const lookup = pinnedLookup({
    host: 'public.test',
    addresses: [
      { address: '203.0.113.10', family: 4 },
      { address: '2001:db8::10', family: 6 },
    ],
  });
  const call = (hostname: string, options: Parameters<typeof lookup>[1]) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>(
      (resolve) => {
        lookup(hostname, options, (error, address, family) => resolve({ error, address, family }));
      },
    );

  it('answers only with the checked addresses', async () => {
    expect(await call('public.test', { all: true })).toEqual({
      error: null,
      address: [
        { address: '203.0.113.10', family: 4 },
        { address: '2001:db8::10', family: 6 },
      ],
      family: undefined,
    });
    expect(await call('PUBLIC.test', {})).toMatchObject({ error: null, address: '203.0.113.10', family: 4 });
    expect(await call('public.test', { family: 6 })).toMatchObject({ address: '2001:db8::10', family: 6 });
    expect(await call('public.test', { family: 'IPv6', all: true })).toMatchObject({
      address: [{ address: '2001:db8::10', family: 6 }],
    });
  });

  it('refuses to answer for another host or a missing family', async () => {
    const other = await call('evil.test', {});
    expect(other.error?.code).toBe('ENOTFOUND');
    expect(other.error?.message).toMatch(/pinned lookup for public\.test was asked for evil\.test/);
    const v4only = pinnedLookup({ host: 'a.test', addresses: [{ address: '203.0.113.1', family: 4 }] });
    const missing = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      v4only('a.test', { family: 6 }, (error) => resolve(error));
    });
    expect(missing?.message).toMatch(/no checked IPv6 address/);
  });
});

import { isIP } from 'node:net';

import {
  type AddressPolicy,
  type AddressPolicyOptions,
  createAddressPolicy,
  type ResolvedAddress,
  type Resolver,
} from '../../src/ssrf-guard.js';

/**
 * Test-only network plumbing. The production policy refuses loopback, but every test server runs on
 * loopback; so tests wrap the production policy and additionally allow the exact `address:port` of
 * the servers that play "the public internet". Everything else (other ports, other addresses) is
 * still judged by the unmodified production policy: that is what the SSRF tests exercise.
 */
export function testPolicy(
  publicEndpoints: readonly { host: string; port: number }[],
  options: Partial<AddressPolicyOptions> = {},
): AddressPolicy {
  const production = createAddressPolicy({ allowPrivate: false, allowedHosts: [], deniedHosts: [], ...options });
  return wrapPolicy(production, publicEndpoints);
}

export function wrapPolicy(
  production: AddressPolicy,
  publicEndpoints: readonly { host: string; port: number }[],
): AddressPolicy {
  return {
    checkHost: (host) => production.checkHost(host),
    checkAddress: (target) =>
      publicEndpoints.some((endpoint) => endpoint.host === target.address && endpoint.port === target.port)
        ? { allowed: true }
        : production.checkAddress(target),
  };
}

export interface TestResolver {
  resolver: Resolver;
  /** Host names looked up so far, in order. */
  calls: string[];
}

/**
 * DNS the test controls: each name maps to its addresses, or to a function of the call count (for
 * rebinding). Unknown names fail like NXDOMAIN.
 */
export function testResolver(table: Record<string, string[] | ((call: number) => string[])>): TestResolver {
  const calls: string[] = [];
  const resolver: Resolver = (hostname) => {
    calls.push(hostname);
    const entry = table[hostname];
    if (entry === undefined) {
      const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      error.code = 'ENOTFOUND';
      return Promise.reject(error);
    }
    const addresses = typeof entry === 'function' ? entry(calls.filter((name) => name === hostname).length) : entry;
    return Promise.resolve(
      addresses.map((address): ResolvedAddress => ({ address, family: isIP(address) === 6 ? 6 : 4 })),
    );
  };
  return { resolver, calls };
}

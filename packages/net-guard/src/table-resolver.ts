import { isIP } from 'node:net';

import type { ResolvedAddress, Resolver } from './ssrf-guard.js';

export interface TableResolver {
  resolver: Resolver;
  /** Host names looked up so far, in order. */
  calls: string[];
}

/**
 * A resolver that answers from a table instead of DNS, for tests: a name maps to its addresses, or
 * to a function of how many times it was asked (a rebinding DNS server). Unknown names: ENOTFOUND.
 */
export function tableResolver(table: Record<string, string[] | ((call: number) => string[])>): TableResolver {
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

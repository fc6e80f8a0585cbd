import { type AddressPolicy, type AddressPolicyOptions, createAddressPolicy } from '@mcp-sse/net-guard';

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

/** DNS answered from a table (the production resolver is replaced, never the policy's checks). */
export { type TableResolver as TestResolver, tableResolver as testResolver } from '@mcp-sse/net-guard';

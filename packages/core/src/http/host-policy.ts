/**
 * DNS-rebinding protection: the Host header must name this server, and a browser Origin, when
 * present, must be one we allow. Container names come from configuration so that
 * `http://mcp-sqlite:8006` works inside Docker.
 */
export interface HostPolicy {
  allowHost(host: string | undefined): boolean;
  allowOrigin(origin: string | undefined): boolean;
}

const LOOPBACK = ['localhost', '127.0.0.1', '::1'];

/** Strips the port and IPv6 brackets: `[::1]:8006` → `::1`, `mcp-sqlite:8006` → `mcp-sqlite`. */
export function hostnameOf(host: string): string {
  const value = host.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(1, end);
  }
  const colon = value.lastIndexOf(':');
  return colon === -1 || value.indexOf(':') !== colon ? value : value.slice(0, colon);
}

export function createHostPolicy(options: {
  service: string;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
}): HostPolicy {
  const anyHost = options.allowedHosts.includes('*');
  const hosts = new Set([...LOOPBACK, `mcp-${options.service}`, ...options.allowedHosts.map(hostnameOf)]);
  const anyOrigin = options.allowedOrigins.includes('*');
  const origins = new Set(options.allowedOrigins.map((origin) => origin.toLowerCase().replace(/\/+$/, '')));
  return {
    allowHost(host) {
      if (anyHost) return true;
      if (!host) return false;
      return hosts.has(hostnameOf(host));
    },
    allowOrigin(origin) {
      if (origin === undefined) return true; // not a browser
      if (anyOrigin) return true;
      const normalized = origin.toLowerCase().replace(/\/+$/, '');
      if (origins.has(normalized)) return true;
      // Pages served from a host we accept (e.g. the MCP Inspector on localhost) may call us.
      try {
        const url = new URL(normalized);
        return (url.protocol === 'http:' || url.protocol === 'https:') && !anyHost && hosts.has(hostnameOf(url.host));
      } catch {
        return false;
      }
    },
  };
}

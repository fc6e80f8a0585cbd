import type { IncomingHttpHeaders } from 'node:http';

/** Path segments of URL-safe characters only: a header value can never inject a scheme, host or query. */
const PREFIX = /^(?:\/[A-Za-z0-9._~-]+)*\/?$/;

export interface PublicPrefixOptions {
  /** MCP_TRUST_PROXY: X-Forwarded-Prefix is believed only then. */
  trustProxy: boolean;
  /** MCP_PUBLIC_URL, when set. */
  publicUrl: URL | undefined;
}

function hostnameOf(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function clean(prefix: string): string | undefined {
  if (prefix.length > 200 || !PREFIX.test(prefix)) return undefined;
  return prefix.replace(/\/+$/, '');
}

/**
 * The path under which the client reached this service, for the URLs the service hands out (the
 * legacy SSE `endpoint` event): behind nginx at https://mcp.example/sqlite/sse the client must POST
 * to /sqlite/messages, while LiteLLM on the Docker network, talking to http://mcp-sqlite:8006/sse
 * directly, must POST to /messages. So the prefix is per request: X-Forwarded-Prefix from a trusted
 * proxy, else MCP_PUBLIC_URL's path when the request came through the public host name, else none.
 */
export function createPublicPrefix(options: PublicPrefixOptions): (headers: IncomingHttpHeaders) => string {
  const publicPath = options.publicUrl ? (clean(options.publicUrl.pathname) ?? '') : '';
  // By name only: nginx's $host drops the port (https://mcp.example:8443 arrives as mcp.example).
  const publicHost = options.publicUrl?.hostname.toLowerCase();
  return (headers) => {
    if (options.trustProxy) {
      const forwarded = headers['x-forwarded-prefix'];
      const value = Array.isArray(forwarded) ? forwarded[0] : forwarded;
      if (value !== undefined) {
        const prefix = clean(value.split(',', 1)[0]!.trim());
        if (prefix !== undefined) return prefix;
      }
    }
    if (publicHost !== undefined && hostnameOf(headers.host) === publicHost) return publicPath;
    return '';
  };
}

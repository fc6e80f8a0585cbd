import { checkResourceAllowed } from '@modelcontextprotocol/sdk/shared/auth-utils.js';

import { SCOPES } from './scopes.js';

/** The MCP endpoints that have protected-resource metadata of their own (path-suffixed, RFC 9728 3.1). */
export const RESOURCE_PATHS = ['', '/mcp', '/sse'] as const;
export type ResourcePath = (typeof RESOURCE_PATHS)[number];

/**
 * This service as an OAuth protected resource: its identifier is MCP_PUBLIC_URL (the address
 * clients use, behind any proxy), tokens for it or any path below it are accepted, and anything
 * else is another resource. The well-known documents are served at the RFC 9728 / RFC 8414 paths,
 * the public URL's own path inserted after `/.well-known/<name>` (so that one host name can front
 * several services by path).
 */
export interface ProtectedResource {
  /** MCP_PUBLIC_URL without a trailing slash. */
  readonly identifier: string;
  /** The authorization server: this service (built-in) or MCP_OAUTH_ISSUER (external). */
  readonly issuer: string;
  readonly endpoints: { authorize: string; token: string; register: string; revoke: string; callback: string };
  /** True for a resource indicator that names this service (RFC 8707 audience check). */
  accepts(resource: string): boolean;
  /** The RFC 9728 document for an endpoint. */
  metadata(path: ResourcePath): Record<string, unknown>;
  /** Where that document is, as WWW-Authenticate's resource_metadata names it. */
  metadataUrl(path: ResourcePath): string;
  /** Server-side routes of the protected-resource documents, by endpoint. */
  readonly metadataRoutes: ReadonlyMap<string, ResourcePath>;
  /** Server-side routes of the authorization server metadata (built-in mode). */
  readonly authorizationServerRoutes: readonly string[];
}

export function createProtectedResource(publicUrl: string, issuer: string | undefined): ProtectedResource {
  const base = new URL(publicUrl);
  const identifier = publicUrl.replace(/\/+$/, '');
  const prefix = base.pathname.replace(/\/+$/, '');
  const origin = base.origin;
  const asIssuer = issuer ?? identifier;
  const wellKnown = (name: string, path: string) => `/.well-known/${name}${prefix}${path}`;
  const metadataRoutes = new Map<string, ResourcePath>();
  for (const path of RESOURCE_PATHS) {
    metadataRoutes.set(wellKnown('oauth-protected-resource', path), path);
    // Without the prefix too: a proxy that strips the service's path from every request.
    if (prefix) metadataRoutes.set(`/.well-known/oauth-protected-resource${path}`, path);
  }
  const authorizationServerRoutes = [
    ...new Set([
      wellKnown('oauth-authorization-server', ''),
      '/.well-known/oauth-authorization-server',
      wellKnown('openid-configuration', ''),
      '/.well-known/openid-configuration',
    ]),
  ];
  return {
    identifier,
    issuer: asIssuer,
    endpoints: {
      authorize: `${identifier}/authorize`,
      token: `${identifier}/token`,
      register: `${identifier}/register`,
      revoke: `${identifier}/revoke`,
      callback: `${identifier}/oauth/callback`,
    },
    accepts(resource) {
      try {
        return checkResourceAllowed({ requestedResource: resource, configuredResource: identifier });
      } catch {
        return false;
      }
    },
    metadata: (path) => ({
      resource: `${identifier}${path}`,
      authorization_servers: [asIssuer],
      scopes_supported: [...SCOPES],
      bearer_methods_supported: ['header'],
      resource_name: `MCP server at ${identifier}`,
    }),
    metadataUrl: (path) => `${origin}${wellKnown('oauth-protected-resource', path)}`,
    metadataRoutes,
    authorizationServerRoutes,
  };
}

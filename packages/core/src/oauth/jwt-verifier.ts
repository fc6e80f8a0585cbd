import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';

import type { AccessGrant, TokenCheck } from './authorization-server.js';
import type { ProtectedResource } from './resource.js';
import { parseScope, type Scope } from './scopes.js';

export interface JwtVerifierOptions {
  issuer: string;
  /** The JWKS URL; discovered from the issuer's metadata when omitted. */
  jwksUrl?: string;
  /** The audience tokens must carry (MCP_OAUTH_AUDIENCE, default the public URL). */
  audience: string;
  resource: ProtectedResource;
}

/** The issuer's JWKS URL from its RFC 8414 or OpenID Connect discovery document. */
async function discoverJwks(issuer: string): Promise<string> {
  const base = issuer.replace(/\/+$/, '');
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  const candidates = [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${base}/.well-known/openid-configuration`,
  ];
  for (const candidate of candidates) {
    const response = await fetch(candidate, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (!response?.ok) continue;
    const document = (await response.json()) as { jwks_uri?: unknown; issuer?: unknown };
    if (typeof document.jwks_uri === 'string' && document.issuer === issuer) return document.jwks_uri;
  }
  throw new Error(`no jwks_uri found in the discovery documents of ${issuer}`);
}

/**
 * Resource-server-only mode (MCP_OAUTH_MODE=external): JWT access tokens from an external
 * authorization server (Keycloak, Entra ID, Auth0), checked by signature (the issuer's JWKS),
 * issuer, audience and expiry. Scopes come from `scope` (space-separated) or `scp` (a list).
 */
export function createJwtVerifier(options: JwtVerifierOptions): (token: string) => Promise<TokenCheck> {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  const keySet = async () => {
    keys ??= createRemoteJWKSet(new URL(options.jwksUrl ?? (await discoverJwks(options.issuer))), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
    });
    return keys;
  };
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, await keySet(), {
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: 30,
      });
      const scopeText =
        typeof payload['scope'] === 'string'
          ? payload['scope']
          : Array.isArray(payload['scp'])
            ? (payload['scp'] as unknown[]).filter((s) => typeof s === 'string').join(' ')
            : undefined;
      const scopes = parseScope(scopeText) ?? new Set<Scope>();
      if (typeof payload.sub !== 'string' || payload.sub.length === 0)
        return { ok: false, reason: 'the token has no subject' };
      const grant: AccessGrant = {
        subject: payload.sub,
        clientId: typeof payload['client_id'] === 'string' ? payload['client_id'] : ((payload['azp'] as string) ?? ''),
        scopes,
        resource: options.resource.identifier,
        expiresAt: (payload.exp ?? 0) * 1000,
      };
      return { ok: true, grant };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: 'the token expired' };
      if (error instanceof joseErrors.JWTClaimValidationFailed)
        return { ok: false, reason: `the token's ${error.claim} is wrong` };
      return { ok: false, reason: 'the token could not be verified' };
    }
  };
}

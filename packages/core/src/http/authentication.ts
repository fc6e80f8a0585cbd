import type { IncomingHttpHeaders } from 'node:http';

import type { Identity } from '../define-tool.js';
import type { TokenCheck } from '../oauth/authorization-server.js';
import type { ProtectedResource, ResourcePath } from '../oauth/resource.js';
import { ANONYMOUS, bearerOf, createApiKeys } from './api-keys.js';

export type AuthResult =
  { ok: true; identity: Identity } | { ok: false; reason: 'missing' | 'invalid'; detail?: string };

/**
 * Who is calling, from the request's credentials: API keys (MCP_AUTH=keys), OAuth access tokens
 * (oauth), or either (both). `authenticate` answers at once, or with a promise when a token needs
 * I/O to check (an external JWT not yet seen); the fast lane passes those to fastify.
 */
export interface Authenticator {
  /** True when a request without credentials is refused. */
  readonly required: boolean;
  authenticate(headers: IncomingHttpHeaders): AuthResult | Promise<AuthResult>;
  /** The message of a 401: what to send, or what was wrong with what was sent. */
  refusal(result: { reason: 'missing' | 'invalid'; detail?: string }): string;
  /** The WWW-Authenticate value of a 401 for this request path. */
  challenge(path: string, result: { reason: 'missing' | 'invalid'; detail?: string }): string;
  /** The WWW-Authenticate value of a 403 for a token without `scope`. */
  scopeChallenge(path: string, scope: string): string;
}

export interface OAuthVerifier {
  resource: ProtectedResource;
  /** A token check: synchronous for the built-in server, a promise for an external JWT. */
  verify(token: string): TokenCheck | Promise<TokenCheck>;
}

/** The protected-resource document a 401 on this path should point to. */
function resourcePathOf(path: string): ResourcePath {
  if (path === '/mcp' || path.startsWith('/mcp?')) return '/mcp';
  if (path === '/sse' || path.startsWith('/sse?') || path.startsWith('/messages')) return '/sse';
  return '';
}

const quote = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

export function createAuthenticator(options: {
  mode: 'keys' | 'oauth' | 'both';
  keys: readonly string[];
  realm: string;
  oauth: OAuthVerifier | undefined;
}): Authenticator {
  const apiKeys = createApiKeys(options.keys);
  const { oauth, realm } = options;
  const useKeys = options.mode !== 'oauth';
  const required = options.mode !== 'keys' || apiKeys.required;

  const fromToken = (check: TokenCheck): AuthResult =>
    check.ok
      ? {
          ok: true,
          identity: { id: `user:${check.grant.subject}`, authenticated: true, scopes: check.grant.scopes },
        }
      : { ok: false, reason: 'invalid', detail: check.reason };

  return {
    required,
    authenticate(headers) {
      if (!required) return { ok: true, identity: ANONYMOUS };
      const presented = bearerOf(headers);
      if (presented === undefined) return { ok: false, reason: 'missing' };
      if (useKeys) {
        const key = apiKeys.identify(presented);
        if (key) return { ok: true, identity: key };
        if (!oauth) return { ok: false, reason: 'invalid' };
      }
      if (!oauth) return { ok: false, reason: 'invalid' };
      // In both modes, something that is neither a key nor a token of ours reads as a bad token.
      const check = oauth.verify(presented);
      return check instanceof Promise ? check.then(fromToken) : fromToken(check);
    },
    refusal(result) {
      if (result.reason === 'invalid') {
        return options.mode === 'keys'
          ? 'Unauthorized: invalid API key'
          : `Unauthorized: ${result.detail ?? 'invalid API key'}`;
      }
      if (options.mode === 'keys')
        return 'Unauthorized: send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"';
      if (options.mode === 'oauth') return 'Unauthorized: send an access token as "Authorization: Bearer <token>"';
      return 'Unauthorized: send an API key or an access token as "Authorization: Bearer <credential>"';
    },
    challenge(path, result) {
      if (!oauth) return `Bearer realm=${quote(realm)}`;
      const parts = [
        `Bearer realm=${quote(realm)}`,
        `resource_metadata=${quote(oauth.resource.metadataUrl(resourcePathOf(path)))}`,
      ];
      if (result.reason === 'invalid') {
        parts.push('error="invalid_token"', `error_description=${quote(result.detail ?? 'the token is not valid')}`);
      }
      return parts.join(', ');
    },
    scopeChallenge(path, scope) {
      const metadata = oauth ? `, resource_metadata=${quote(oauth.resource.metadataUrl(resourcePathOf(path)))}` : '';
      return `Bearer realm=${quote(realm)}, error="insufficient_scope", scope=${quote(scope)}${metadata}`;
    },
  };
}

import type { Identity } from '../define-tool.js';
import { type HttpFailure, httpFailure } from '../errors.js';
import type { ToolRegistry } from '../registry/registry.js';
import type { Authenticator } from './authentication.js';

/**
 * An OAuth caller whose token lacks the scope of a tool it calls gets `403 insufficient_scope`
 * before the call runs (MCP step-up authorization: the client can ask the user for more). Looks
 * at a JSON-RPC body, or each message of a batch. API keys and anonymous callers have every scope.
 */
export function scopeRefusal(
  registry: ToolRegistry,
  auth: Authenticator,
  identity: Identity,
  path: string,
  body: unknown,
): HttpFailure | undefined {
  if (identity.scopes === undefined) return undefined;
  for (const message of Array.isArray(body) ? body : [body]) {
    if (message === null || typeof message !== 'object') continue;
    const { method, params } = message as { method?: unknown; params?: { name?: unknown } };
    if (method !== 'tools/call' || typeof params?.name !== 'string') continue;
    const missing = registry.missingScope(identity, params.name);
    if (missing === undefined) continue;
    const wanted = [...new Set([...identity.scopes, missing])].sort().join(' ');
    return httpFailure(
      'FORBIDDEN',
      `Insufficient scope: ${params.name} needs the "${missing}" scope, which this token does not have`,
      { headers: { 'www-authenticate': auth.scopeChallenge(path, wanted) } },
    );
  }
  return undefined;
}

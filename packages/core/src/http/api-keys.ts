import { createHash, timingSafeEqual } from 'node:crypto';

import type { Identity } from '../define-tool.js';

export const ANONYMOUS: Identity = Object.freeze({ id: 'anonymous', authenticated: false });

export type AuthResult = { ok: true; identity: Identity } | { ok: false; reason: 'missing' | 'invalid' };

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Bearer API keys (MCP_API_KEYS). Accepts `Authorization: Bearer <key>` (Open WebUI, LiteLLM
 * bearer_token) and `X-API-Key: <key>` (LiteLLM api_key). Keys are compared as SHA-256 digests in
 * constant time; the identity names the key by a digest prefix, never the key.
 */
export interface Authenticator {
  /** True when MCP_API_KEYS is set. */
  readonly required: boolean;
  authenticate(headers: Record<string, string | string[] | undefined>): AuthResult;
}

export function createAuthenticator(keys: readonly string[]): Authenticator {
  const known = keys.map((key) => ({ digest: digest(key), id: `key:${digest(key).toString('hex').slice(0, 8)}` }));
  const required = known.length > 0;
  return {
    required,
    authenticate(headers) {
      if (!required) return { ok: true, identity: ANONYMOUS };
      const presented = extractKey(headers);
      if (presented === undefined) return { ok: false, reason: 'missing' };
      const candidate = digest(presented);
      let match: string | undefined;
      for (const key of known) if (timingSafeEqual(candidate, key.digest)) match = key.id;
      return match ? { ok: true, identity: { id: match, authenticated: true } } : { ok: false, reason: 'invalid' };
    },
  };
}

function extractKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers['authorization'];
  if (typeof authorization === 'string') {
    const match = /^Bearer[ \t]*(.*)$/i.exec(authorization.trim());
    // A bare "Bearer" (Open WebUI with an empty key) counts as no credentials, not as a crash.
    const token = match?.[1]?.trim();
    if (token) return token;
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim()) return apiKey.trim();
  return undefined;
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import type { Identity } from '../define-tool.js';

export const ANONYMOUS: Identity = Object.freeze({ id: 'anonymous', authenticated: false });

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Bearer API keys (MCP_API_KEYS). Keys are compared as SHA-256 digests in constant time; the
 * identity names a key by a digest prefix, never the key.
 */
export function createApiKeys(keys: readonly string[]) {
  const known = keys.map((key) => ({
    digest: digest(key),
    identity: Object.freeze({ id: `key:${digest(key).toString('hex').slice(0, 8)}`, authenticated: true }),
  }));
  return {
    required: known.length > 0,
    /** The identity of a presented key, or undefined when it is not one of ours. */
    identify(presented: string): Identity | undefined {
      const candidate = digest(presented);
      let match: Identity | undefined;
      for (const key of known) if (timingSafeEqual(candidate, key.digest)) match = key.identity;
      return match;
    },
  };
}

/**
 * The credential a request presents: `Authorization: Bearer <x>` (Open WebUI, LiteLLM bearer_token,
 * OAuth clients) or `X-API-Key: <x>` (LiteLLM api_key). A bare "Bearer" (Open WebUI with an empty
 * key) counts as no credentials, not as a crash.
 */
export function bearerOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers['authorization'];
  if (typeof authorization === 'string') {
    const match = /^Bearer[ \t]*(.*)$/i.exec(authorization.trim());
    const token = match?.[1]?.trim();
    if (token) return token;
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim()) return apiKey.trim();
  return undefined;
}

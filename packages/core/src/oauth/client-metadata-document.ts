import { OAuthClientMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';

import type { StoredClient } from './oauth-store.js';
import { redirectUriProblem } from './redirect-uris.js';

/** Fetches a document over HTTPS with the service's SSRF protection; resolves to status and body. */
export type DocumentFetcher = (url: string) => Promise<{ status: number; body: string }>;

export interface ClientMetadataDocuments {
  /** True for a client_id that is a client ID metadata document URL. */
  isDocumentUrl(clientId: string): boolean;
  /** The client the document describes (cached); throws with a message for the user when unusable. */
  resolve(clientId: string): Promise<StoredClient>;
}

export const MAX_DOCUMENT_BYTES = 5 * 1024;
const CACHE_MS = 5 * 60_000;
const MAX_CACHED = 1000;

/**
 * Client ID metadata documents (MCP 2025-11-25, draft-ietf-oauth-client-id-metadata-document): a
 * client whose client_id is an https URL publishes its metadata there. The document is fetched with
 * the same SSRF guard as the fetch service (no private or loopback addresses unless allowed), must
 * be small JSON, must name itself as client_id, and may register only valid redirect URIs. Such a
 * client is public: PKCE, no secret.
 */
export function createClientMetadataDocuments(
  fetchDocument: DocumentFetcher,
  now = () => Date.now(),
): ClientMetadataDocuments {
  const cache = new Map<string, { client: StoredClient; until: number }>();
  const isDocumentUrl = (clientId: string) => {
    try {
      const url = new URL(clientId);
      return url.protocol === 'https:' && url.pathname !== '/' && url.hash === '' && url.username === '';
    } catch {
      return false;
    }
  };
  return {
    isDocumentUrl,
    async resolve(clientId) {
      const cached = cache.get(clientId);
      if (cached && cached.until > now()) return cached.client;
      if (!isDocumentUrl(clientId)) throw new Error('client_id is not an https URL with a path');
      let answer: { status: number; body: string };
      try {
        answer = await fetchDocument(clientId);
      } catch (error) {
        throw new Error(`The client's metadata document could not be fetched: ${(error as Error).message}`);
      }
      if (answer.status !== 200) throw new Error(`The client's metadata document answered ${answer.status}`);
      if (Buffer.byteLength(answer.body) > MAX_DOCUMENT_BYTES) {
        throw new Error(`The client's metadata document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
      }
      let json: unknown;
      try {
        json = JSON.parse(answer.body);
      } catch {
        throw new Error("The client's metadata document is not JSON");
      }
      const parsed = OAuthClientMetadataSchema.safeParse(json);
      if (!parsed.success) throw new Error("The client's metadata document is not valid client metadata");
      if ((json as { client_id?: unknown }).client_id !== clientId) {
        throw new Error("The client's metadata document does not name itself as client_id");
      }
      for (const uri of parsed.data.redirect_uris) {
        const problem = redirectUriProblem(uri);
        if (problem) throw new Error(`The client's metadata document has a redirect URI that ${problem}`);
      }
      const client: StoredClient = {
        clientId,
        secretDigest: undefined,
        redirectUris: parsed.data.redirect_uris,
        clientName: parsed.data.client_name,
        metadata: parsed.data,
        createdAt: Math.floor(now() / 1000),
      };
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
      cache.set(clientId, { client, until: now() + CACHE_MS });
      return client;
    },
  };
}

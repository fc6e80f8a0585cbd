import { createAddressPolicy, createHttpClient, createSsrfGuard, type Resolver } from '@mcp-sse/net-guard';

import type { DocumentFetcher } from './client-metadata-document.js';

export interface GuardedDocumentFetcherOptions {
  /** Hosts admitted on private addresses (MCP_OAUTH_CLIENT_METADATA_ALLOWED_HOSTS); none by default. */
  allowedHosts: readonly string[];
  /** Largest document read, in bytes; a larger one is refused, not cut. */
  maxBytes: number;
  /** The whole exchange, connection to last byte. */
  timeoutMs: number;
  userAgent: string;
  /** Test seams: replace system DNS, add a trust anchor. Nothing in config reaches them. */
  resolver?: Resolver;
  ca?: string;
}

const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json$/;

/**
 * Fetches client ID metadata documents through the SSRF guard the fetch service uses
 * (@mcp-sse/net-guard): only https, every address of the host public (or the host listed), the
 * connection pinned to the checked addresses (no DNS rebinding), no redirects (a document names
 * itself, so it has no reason to move), a size cap counted after decompression, a timeout, and a
 * JSON content type.
 */
export function createGuardedDocumentFetcher(options: GuardedDocumentFetcherOptions): DocumentFetcher {
  const guard = createSsrfGuard({
    policy: createAddressPolicy({
      allowPrivate: false,
      allowedHosts: options.allowedHosts,
      deniedHosts: [],
      settings: { allowPrivate: undefined, allowedHosts: 'MCP_OAUTH_CLIENT_METADATA_ALLOWED_HOSTS' },
    }),
    ...(options.resolver ? { resolver: options.resolver } : {}),
  });
  const client = createHttpClient({
    guard,
    userAgent: options.userAgent,
    timeoutMs: options.timeoutMs,
    // One byte over the cap tells "exactly the cap" from "larger".
    maxBodyBytes: options.maxBytes + 1,
    maxRedirects: 0,
    ...(options.ca ? { ca: options.ca } : {}),
    settings: { timeoutMs: 'the metadata document time limit', maxRedirects: 'metadata documents are not redirected' },
  });
  return async (url) => {
    if (!url.startsWith('https://')) throw new Error('only https metadata documents are fetched');
    const response = await client.get(url, { headers: { accept: 'application/json' } });
    if (response.status !== 200) return { status: response.status, body: '' };
    if (response.truncated || response.body.length > options.maxBytes) {
      throw new Error(`the document is larger than ${options.maxBytes} bytes`);
    }
    const mediaType = (response.contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (!JSON_TYPE.test(mediaType)) {
      throw new Error(`the document is served as ${mediaType || 'no content type'}, not application/json`);
    }
    return { status: 200, body: response.body.toString('utf8') };
  };
}

import { readFileSync } from 'node:fs';

import type { BaseConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import type { OAuthVerifier } from '../http/authentication.js';
import { AuthorizationServer, type TokenCheck } from './authorization-server.js';
import { createClientMetadataDocuments, type DocumentFetcher, MAX_DOCUMENT_BYTES } from './client-metadata-document.js';
import { createGuardedDocumentFetcher, type GuardedDocumentFetcherOptions } from './document-fetcher.js';
import { createJwtVerifier } from './jwt-verifier.js';
import { digestOf, OAuthStore } from './oauth-store.js';
import { createUpstreamProvider, type UpstreamProvider } from './oidc-login.js';
import { parseUsers } from './passwords.js';
import { createProtectedResource, type ProtectedResource } from './resource.js';

/** Everything OAuth of one service: built once at start when MCP_AUTH is oauth or both. */
export interface OAuthSetup extends OAuthVerifier {
  resource: ProtectedResource;
  /** The built-in authorization server (MCP_OAUTH_MODE=builtin). */
  server: AuthorizationServer | undefined;
  /** Users who log in with a password (MCP_OAUTH_USERS), by name → hash. */
  users: ReadonlyMap<string, string>;
  /** Login delegated to an OpenID Connect provider (MCP_OAUTH_OIDC_ISSUER). */
  upstream: UpstreamProvider | undefined;
  store: OAuthStore | undefined;
  close(): void;
}

/** A metadata document is a few hundred bytes from a client's own web site: 5 s is generous. */
const DOCUMENT_TIMEOUT_MS = 5000;

function readSecretFile(setting: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${setting}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Caches verified external tokens until they expire, so that a request needs no I/O after the first. */
function cached(
  verify: (token: string) => Promise<TokenCheck>,
  now: () => number,
): (token: string) => TokenCheck | Promise<TokenCheck> {
  const known = new Map<string, TokenCheck & { ok: true }>();
  return (token) => {
    const key = digestOf(token);
    const hit = known.get(key);
    if (hit && hit.grant.expiresAt > now()) return hit;
    return verify(token).then((check) => {
      if (check.ok) {
        if (known.size >= 10_000) known.delete(known.keys().next().value as string);
        known.set(key, check);
      }
      return check;
    });
  };
}

/**
 * Checks the OAuth settings as a whole (one clear line when they do not fit together) and builds
 * the resource server, and in built-in mode the authorization server with its store.
 *
 * @public loaded by app.ts with a dynamic import, only when MCP_AUTH is not `keys`
 */
export async function createOAuth(
  config: Readonly<BaseConfig>,
  service: string,
  options: {
    fetchDocument?: DocumentFetcher;
    /** Test seams of the default (guarded) document fetcher. */
    documentNetwork?: Pick<GuardedDocumentFetcherOptions, 'resolver' | 'ca'>;
    now?: () => number;
  } = {},
): Promise<OAuthSetup | undefined> {
  if (config.MCP_AUTH === 'keys') return undefined;
  const now = options.now ?? (() => Date.now());
  const publicUrl = config.MCP_PUBLIC_URL;
  if (!publicUrl) {
    throw new ConfigError(`MCP_PUBLIC_URL: required with MCP_AUTH=${config.MCP_AUTH} (the address clients use)`);
  }
  if (config.MCP_AUTH === 'both' && config.MCP_API_KEYS.length === 0) {
    throw new ConfigError('MCP_API_KEYS: required with MCP_AUTH=both (or use MCP_AUTH=oauth)');
  }

  if (config.MCP_OAUTH_MODE === 'external') {
    const issuer = config.MCP_OAUTH_ISSUER;
    if (!issuer) throw new ConfigError('MCP_OAUTH_ISSUER: required with MCP_OAUTH_MODE=external');
    const resource = createProtectedResource(publicUrl, issuer);
    const verify = createJwtVerifier({
      issuer,
      ...(config.MCP_OAUTH_JWKS_URL ? { jwksUrl: config.MCP_OAUTH_JWKS_URL } : {}),
      audience: config.MCP_OAUTH_AUDIENCE ?? publicUrl,
      resource,
    });
    return {
      resource,
      verify: cached(verify, now),
      server: undefined,
      users: new Map(),
      upstream: undefined,
      store: undefined,
      close: () => undefined,
    };
  }

  const userEntries = [...config.MCP_OAUTH_USERS];
  if (config.MCP_OAUTH_USERS_FILE) {
    const text = readSecretFile('MCP_OAUTH_USERS_FILE', config.MCP_OAUTH_USERS_FILE);
    userEntries.push(
      ...text
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#')),
    );
  }
  let users: Map<string, string>;
  try {
    users = parseUsers(userEntries);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const resource = createProtectedResource(publicUrl, undefined);
  let upstream: UpstreamProvider | undefined;
  if (config.MCP_OAUTH_OIDC_ISSUER) {
    if (!config.MCP_OAUTH_OIDC_CLIENT_ID) {
      throw new ConfigError('MCP_OAUTH_OIDC_CLIENT_ID: required with MCP_OAUTH_OIDC_ISSUER');
    }
    const secret = config.MCP_OAUTH_OIDC_CLIENT_SECRET_FILE
      ? readSecretFile('MCP_OAUTH_OIDC_CLIENT_SECRET_FILE', config.MCP_OAUTH_OIDC_CLIENT_SECRET_FILE).trim()
      : config.MCP_OAUTH_OIDC_CLIENT_SECRET;
    upstream = createUpstreamProvider({
      issuer: config.MCP_OAUTH_OIDC_ISSUER,
      clientId: config.MCP_OAUTH_OIDC_CLIENT_ID,
      clientSecret: secret,
      redirectUri: resource.endpoints.callback,
    });
  }
  if (users.size === 0 && !upstream) {
    throw new ConfigError(
      'MCP_OAUTH_USERS: nobody can log in: set MCP_OAUTH_USERS (or _FILE) or MCP_OAUTH_OIDC_ISSUER, or use MCP_OAUTH_MODE=external',
    );
  }
  const store = await OAuthStore.open(config.MCP_OAUTH_DB ?? `./data/oauth/${service}.db`);
  const fetchDocument =
    options.fetchDocument ??
    createGuardedDocumentFetcher({
      allowedHosts: config.MCP_OAUTH_CLIENT_METADATA_ALLOWED_HOSTS,
      maxBytes: MAX_DOCUMENT_BYTES,
      timeoutMs: DOCUMENT_TIMEOUT_MS,
      userAgent: `mcp-sse-${service} (OAuth client metadata)`,
      ...options.documentNetwork,
    });
  const documents = config.MCP_OAUTH_CLIENT_METADATA_DOCUMENTS
    ? createClientMetadataDocuments(fetchDocument, now)
    : undefined;
  const server = new AuthorizationServer({
    store,
    resource,
    documents,
    registration: config.MCP_OAUTH_REGISTRATION,
    accessTtlS: config.MCP_OAUTH_ACCESS_TOKEN_TTL_S,
    refreshTtlS: config.MCP_OAUTH_REFRESH_TOKEN_TTL_S,
    codeTtlS: config.MCP_OAUTH_CODE_TTL_S,
    now,
  });
  const sweep = setInterval(() => store.sweep(now()), 60_000);
  sweep.unref();
  return {
    resource,
    verify: (token) => server.verifyAccessToken(token),
    server,
    users,
    upstream,
    store,
    close: () => {
      clearInterval(sweep);
      store.close();
    },
  };
}

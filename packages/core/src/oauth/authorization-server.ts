import { randomUUID, timingSafeEqual } from 'node:crypto';

import { OAuthClientMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';

import type { ClientMetadataDocuments } from './client-metadata-document.js';
import { digestOf, newSecret, type OAuthStore, type PendingAuthorization, type StoredClient } from './oauth-store.js';
import { isCodeChallenge, verifyPkce } from './pkce.js';
import { redirectUriMatches, redirectUriProblem } from './redirect-uris.js';
import type { ProtectedResource } from './resource.js';
import { formatScope, parseScope, type Scope, SCOPES } from './scopes.js';

/** An OAuth error (RFC 6749 5.2, RFC 7591 3.2.2, RFC 7009): the code, a description, the status. */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/** What a verified access token says. */
export interface AccessGrant {
  subject: string;
  clientId: string;
  scopes: ReadonlySet<Scope>;
  resource: string;
  expiresAt: number;
}

export type TokenCheck = { ok: true; grant: AccessGrant } | { ok: false; reason: string };

export interface TokenAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

export interface AuthorizationServerOptions {
  store: OAuthStore;
  resource: ProtectedResource;
  documents: ClientMetadataDocuments | undefined;
  registration: boolean;
  accessTtlS: number;
  refreshTtlS: number;
  codeTtlS: number;
  now?: () => number;
}

/** Parameters of GET /authorize that passed validation, before the user is involved. */
export type AuthorizationStart =
  | { ok: true; pending: PendingAuthorization }
  /** An error the user sees on a page (no redirect: the client or its redirect URI is not trusted). */
  | { ok: false; page: OAuthError }
  /** An error returned to the client at its (validated) redirect URI. */
  | { ok: false; redirect: string };

const PENDING_TTL_MS = 10 * 60_000;
const MAX_REDIRECT_URIS = 10;

/**
 * The built-in OAuth 2.1 authorization server of a service: dynamic client registration (RFC 7591)
 * and client ID metadata documents, authorization code with PKCE S256 only, `resource` (RFC 8707)
 * bound into every token and checked on every request, exact redirect-URI matching, refresh-token
 * rotation with reuse detection, revocation (RFC 7009). No HTTP here: plugins/oauth.ts adapts it.
 */
export class AuthorizationServer {
  private readonly now: () => number;
  constructor(private readonly options: AuthorizationServerOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  get resource(): ProtectedResource {
    return this.options.resource;
  }

  /** RFC 8414 authorization server metadata. */
  metadata(): Record<string, unknown> {
    const { issuer, endpoints } = this.options.resource;
    return {
      issuer,
      authorization_endpoint: endpoints.authorize,
      token_endpoint: endpoints.token,
      revocation_endpoint: endpoints.revoke,
      ...(this.options.registration ? { registration_endpoint: endpoints.register } : {}),
      scopes_supported: [...SCOPES],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: this.options.documents !== undefined,
    };
  }

  /** RFC 7591 dynamic client registration. */
  register(body: unknown): Record<string, unknown> {
    if (!this.options.registration) throw new OAuthError('access_denied', 'Dynamic client registration is off', 403);
    const parsed = OAuthClientMetadataSchema.safeParse(body);
    if (!parsed.success) {
      throw new OAuthError(
        'invalid_client_metadata',
        `Invalid client metadata: ${parsed.error.issues[0]?.message ?? ''}`,
      );
    }
    const metadata = parsed.data;
    if (metadata.redirect_uris.length === 0 || metadata.redirect_uris.length > MAX_REDIRECT_URIS) {
      throw new OAuthError('invalid_redirect_uri', `Register 1 to ${MAX_REDIRECT_URIS} redirect URIs`);
    }
    for (const uri of metadata.redirect_uris) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new OAuthError('invalid_redirect_uri', `Redirect URI ${JSON.stringify(uri)} ${problem}`);
    }
    for (const grant of metadata.grant_types ?? ['authorization_code']) {
      if (grant !== 'authorization_code' && grant !== 'refresh_token') {
        throw new OAuthError('invalid_client_metadata', `Unsupported grant type: ${grant}`);
      }
    }
    const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
    if (!['none', 'client_secret_post', 'client_secret_basic'].includes(method)) {
      throw new OAuthError('invalid_client_metadata', `Unsupported token_endpoint_auth_method: ${method}`);
    }
    const clientId = randomUUID();
    const secret = method === 'none' ? undefined : newSecret('mcpcs_');
    const createdAt = Math.floor(this.now() / 1000);
    const stored: StoredClient = {
      clientId,
      secretDigest: secret === undefined ? undefined : digestOf(secret),
      redirectUris: metadata.redirect_uris,
      clientName: metadata.client_name,
      metadata: { ...metadata, token_endpoint_auth_method: method },
      createdAt,
    };
    this.options.store.saveClient(stored);
    return {
      ...stored.metadata,
      client_id: clientId,
      client_id_issued_at: createdAt,
      ...(secret === undefined ? {} : { client_secret: secret, client_secret_expires_at: 0 }),
    };
  }

  /** A client by id: registered, or (an https URL) described by its metadata document. */
  async client(clientId: string): Promise<StoredClient | undefined> {
    const stored = this.options.store.getClient(clientId);
    if (stored) return stored;
    if (this.options.documents && this.options.documents.isDocumentUrl(clientId)) {
      return this.options.documents.resolve(clientId);
    }
    return undefined;
  }

  /** Validates an authorization request (GET /authorize) in the order that keeps redirects safe. */
  async startAuthorization(params: Record<string, string | undefined>): Promise<AuthorizationStart> {
    const clientId = params['client_id'];
    const redirectUri = params['redirect_uri'];
    if (!clientId) return { ok: false, page: new OAuthError('invalid_request', 'client_id is missing') };
    let client: StoredClient | undefined;
    try {
      client = await this.client(clientId);
    } catch (error) {
      return { ok: false, page: new OAuthError('invalid_client', (error as Error).message) };
    }
    if (!client) return { ok: false, page: new OAuthError('invalid_client', 'Unknown client') };
    // Until the redirect URI is known to be the client's, errors go to the user, never to a URL.
    if (!redirectUri || !redirectUriMatches(client.redirectUris, redirectUri)) {
      return {
        ok: false,
        page: new OAuthError('invalid_request', 'The redirect URI is not one this client registered (exact match)'),
      };
    }
    const fail = (error: string, description: string): AuthorizationStart => ({
      ok: false,
      redirect: this.redirectWith(redirectUri, {
        error,
        error_description: description,
        ...(params['state'] === undefined ? {} : { state: params['state'] }),
      }),
    });
    if (params['response_type'] !== 'code') return fail('unsupported_response_type', 'Only response_type=code');
    const challenge = params['code_challenge'];
    if (!challenge) return fail('invalid_request', 'PKCE is required: send code_challenge with S256');
    if (params['code_challenge_method'] !== 'S256') {
      return fail('invalid_request', 'Only code_challenge_method=S256 is supported (plain is not)');
    }
    if (!isCodeChallenge(challenge)) return fail('invalid_request', 'code_challenge is not a base64url S256 challenge');
    const resource = params['resource'] ?? this.options.resource.identifier;
    if (!this.options.resource.accepts(resource)) {
      return fail('invalid_target', 'The resource is not this server (RFC 8707)');
    }
    // Connectors may omit scope (ChatGPT on reconnect): the request then covers every scope, and
    // the consent page shows what is asked.
    const scope = params['scope'] === undefined ? new Set(SCOPES) : parseScope(params['scope']);
    if (!scope) return fail('invalid_scope', `Unknown scope; this server has: ${SCOPES.join(' ')}`);
    return {
      ok: true,
      pending: {
        clientId: client.clientId,
        clientName: client.clientName,
        redirectUri,
        challenge,
        scope: [...scope],
        resource,
        state: params['state'],
        csrf: newSecret(''),
      },
    };
  }

  /** Keeps a pending authorization for the login and consent steps; returns its id. */
  savePending(pending: PendingAuthorization): string {
    const id = newSecret('');
    this.options.store.savePending(id, pending, this.now() + PENDING_TTL_MS);
    return id;
  }

  pending(id: string): PendingAuthorization | undefined {
    return this.options.store.getPending(id, this.now());
  }

  updatePending(id: string, pending: PendingAuthorization): void {
    this.options.store.savePending(id, pending, this.now() + PENDING_TTL_MS);
  }

  /** The user approved: a one-time code, and where to send the browser with it. */
  approve(id: string, pending: PendingAuthorization, subject: string, granted: Scope[]): string {
    this.options.store.deletePending(id);
    const code = newSecret('mcpac_');
    this.options.store.saveCode(
      code,
      {
        clientId: pending.clientId,
        redirectUri: pending.redirectUri,
        challenge: pending.challenge,
        scope: granted,
        resource: pending.resource,
        subject,
        expiresAt: this.now() + this.options.codeTtlS * 1000,
      },
      randomUUID(),
    );
    return this.redirectWith(pending.redirectUri, {
      code,
      ...(pending.state === undefined ? {} : { state: pending.state }),
      iss: this.options.resource.issuer,
    });
  }

  /** The user declined. */
  deny(id: string, pending: PendingAuthorization): string {
    this.options.store.deletePending(id);
    return this.redirectWith(pending.redirectUri, {
      error: 'access_denied',
      error_description: 'The user declined',
      ...(pending.state === undefined ? {} : { state: pending.state }),
      iss: this.options.resource.issuer,
    });
  }

  /** POST /token. `authorization` is the request's Authorization header (client_secret_basic). */
  async token(body: Record<string, string | undefined>, authorization: string | undefined): Promise<TokenAnswer> {
    const client = await this.authenticateClient(body, authorization);
    const grant = body['grant_type'];
    if (grant === 'authorization_code') return this.exchangeCode(client, body);
    if (grant === 'refresh_token') return this.refresh(client, body);
    throw new OAuthError('unsupported_grant_type', 'Only authorization_code and refresh_token');
  }

  /** POST /revoke (RFC 7009): always 200 for a known client, whether or not the token existed. */
  async revoke(body: Record<string, string | undefined>, authorization: string | undefined): Promise<void> {
    const client = await this.authenticateClient(body, authorization);
    const token = body['token'];
    if (!token) throw new OAuthError('invalid_request', 'token is missing');
    const stored = this.options.store.getToken(token);
    if (!stored || stored.clientId !== client.clientId) return;
    // Revoking a refresh token ends the whole grant (its access tokens too); an access token, itself.
    if (stored.kind === 'refresh') this.options.store.revokeFamily(stored.family, this.now());
    else this.options.store.revokeToken(token, this.now());
  }

  /** Checks an access token presented to this resource server. */
  verifyAccessToken(token: string): TokenCheck {
    if (!token.startsWith('mcpat_')) return { ok: false, reason: 'not an access token of this server' };
    const stored = this.options.store.getToken(token);
    if (!stored || stored.kind !== 'access') return { ok: false, reason: 'unknown token' };
    if (stored.revokedAt !== undefined) return { ok: false, reason: 'the token was revoked' };
    if (stored.expiresAt <= this.now()) return { ok: false, reason: 'the token expired' };
    // No token passthrough: a token minted for another resource is refused here.
    if (!this.options.resource.accepts(stored.resource))
      return { ok: false, reason: 'the token is for another resource' };
    return {
      ok: true,
      grant: {
        subject: stored.subject,
        clientId: stored.clientId,
        scopes: new Set(stored.scope),
        resource: stored.resource,
        expiresAt: stored.expiresAt,
      },
    };
  }

  private async exchangeCode(client: StoredClient, body: Record<string, string | undefined>): Promise<TokenAnswer> {
    const code = body['code'];
    const verifier = body['code_verifier'];
    if (!code) throw new OAuthError('invalid_request', 'code is missing');
    if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is missing (PKCE is required)');
    const now = this.now();
    const consumed = this.options.store.consumeCode(code, now);
    if (!consumed) throw new OAuthError('invalid_grant', 'Unknown authorization code');
    if (consumed.reused) {
      // A code presented twice: whoever holds it may be an attacker, so what it granted is revoked.
      this.options.store.revokeFamily(consumed.family, now);
      throw new OAuthError('invalid_grant', 'The authorization code was already used');
    }
    const stored = consumed.code;
    if (stored.expiresAt < now) throw new OAuthError('invalid_grant', 'The authorization code expired');
    if (stored.clientId !== client.clientId)
      throw new OAuthError('invalid_grant', 'The code was issued to another client');
    if (body['redirect_uri'] !== undefined && body['redirect_uri'] !== stored.redirectUri) {
      throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
    }
    if (!verifyPkce(verifier, stored.challenge)) throw new OAuthError('invalid_grant', 'PKCE verification failed');
    if (body['resource'] !== undefined && body['resource'] !== stored.resource) {
      throw new OAuthError('invalid_target', 'resource does not match the authorization request');
    }
    return this.issue(client.clientId, stored.subject, stored.scope, stored.resource, consumed.family);
  }

  private async refresh(client: StoredClient, body: Record<string, string | undefined>): Promise<TokenAnswer> {
    const token = body['refresh_token'];
    if (!token) throw new OAuthError('invalid_request', 'refresh_token is missing');
    const now = this.now();
    const stored = this.options.store.getToken(token);
    if (!stored || stored.kind !== 'refresh') throw new OAuthError('invalid_grant', 'Unknown refresh token');
    if (stored.clientId !== client.clientId)
      throw new OAuthError('invalid_grant', 'The token was issued to another client');
    if (stored.revokedAt !== undefined) throw new OAuthError('invalid_grant', 'The refresh token was revoked');
    if (stored.expiresAt <= now) throw new OAuthError('invalid_grant', 'The refresh token expired');
    if (stored.usedAt !== undefined || !this.options.store.markRefreshUsed(token, now)) {
      // Reuse of a rotated refresh token: it leaked. Everything of its grant is revoked.
      this.options.store.revokeFamily(stored.family, now);
      throw new OAuthError('invalid_grant', 'The refresh token was already used; the grant is revoked');
    }
    if (body['resource'] !== undefined && body['resource'] !== stored.resource) {
      throw new OAuthError('invalid_target', 'resource does not match the grant');
    }
    let scope = stored.scope;
    if (body['scope'] !== undefined) {
      const asked = parseScope(body['scope']);
      if (!asked || [...asked].some((s) => !stored.scope.includes(s))) {
        throw new OAuthError('invalid_scope', 'A refresh can narrow the scope, not widen it');
      }
      scope = [...asked];
    }
    return this.issue(client.clientId, stored.subject, scope, stored.resource, stored.family);
  }

  private issue(clientId: string, subject: string, scope: Scope[], resource: string, family: string): TokenAnswer {
    const now = this.now();
    const access = newSecret('mcpat_');
    const refresh = newSecret('mcprt_');
    const { store, accessTtlS, refreshTtlS } = this.options;
    const common = { clientId, subject, scope, resource, family };
    store.saveToken(access, { ...common, kind: 'access', expiresAt: now + accessTtlS * 1000 });
    store.saveToken(refresh, { ...common, kind: 'refresh', expiresAt: now + refreshTtlS * 1000 });
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: accessTtlS,
      refresh_token: refresh,
      scope: formatScope(scope),
    };
  }

  /** client_secret_basic, client_secret_post, or none (a public client: PKCE only). */
  private async authenticateClient(
    body: Record<string, string | undefined>,
    authorization: string | undefined,
  ): Promise<StoredClient> {
    let clientId = body['client_id'];
    let secret = body['client_secret'];
    if (authorization?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) throw new OAuthError('invalid_client', 'Malformed Basic credentials', 401);
      clientId = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    if (!clientId) throw new OAuthError('invalid_client', 'client_id is missing', 401);
    let client: StoredClient | undefined;
    try {
      client = await this.client(clientId);
    } catch (error) {
      throw new OAuthError('invalid_client', (error as Error).message, 401);
    }
    if (!client) throw new OAuthError('invalid_client', 'Unknown client', 401);
    if (client.secretDigest !== undefined) {
      const presented = secret === undefined ? undefined : Buffer.from(digestOf(secret));
      const expected = Buffer.from(client.secretDigest);
      if (!presented || presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        throw new OAuthError('invalid_client', 'Client authentication failed', 401);
      }
    }
    return client;
  }

  private redirectWith(redirectUri: string, params: Record<string, string>): string {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  }
}

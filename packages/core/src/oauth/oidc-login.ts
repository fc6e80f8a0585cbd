import { createHash, randomBytes } from 'node:crypto';

import { createRemoteJWKSet, jwtVerify } from 'jose';

export interface UpstreamProvider {
  /** Where to send the browser to log in. */
  authorizationUrl(state: string, nonce: string, verifier: string): Promise<string>;
  /** The callback's code exchanged and its ID token verified; resolves to the user's subject. */
  complete(code: string, nonce: string, verifier: string): Promise<string>;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

/**
 * Login delegated to an external OpenID Connect provider (MCP_OAUTH_OIDC_ISSUER): authorization code
 * with PKCE to the provider, the ID token verified by signature, issuer, audience and nonce. The
 * user's subject becomes `<issuer>#<sub>`; the consent step stays on this server.
 */
export function createUpstreamProvider(options: {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  redirectUri: string;
}): UpstreamProvider {
  let discovery: Promise<Discovery> | undefined;
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  const discover = () => {
    discovery ??= (async () => {
      const url = `${options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`OIDC discovery at ${url} answered ${response.status}`);
      const document = (await response.json()) as Discovery;
      if (document.issuer !== options.issuer) throw new Error('OIDC discovery names another issuer');
      return document;
    })().catch((error: unknown) => {
      discovery = undefined;
      throw error;
    });
    return discovery;
  };
  return {
    async authorizationUrl(state, nonce, verifier) {
      const { authorization_endpoint } = await discover();
      const url = new URL(authorization_endpoint);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', options.clientId);
      url.searchParams.set('redirect_uri', options.redirectUri);
      url.searchParams.set('scope', 'openid profile email');
      url.searchParams.set('state', state);
      url.searchParams.set('nonce', nonce);
      url.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
      url.searchParams.set('code_challenge_method', 'S256');
      return url.toString();
    },
    async complete(code, nonce, verifier) {
      const found = await discover();
      const body = new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: options.redirectUri,
        client_id: options.clientId,
        code_verifier: verifier,
        ...(options.clientSecret === undefined ? {} : { client_secret: options.clientSecret }),
      });
      const response = await fetch(found.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`the identity provider refused the code (${response.status})`);
      const tokens = (await response.json()) as { id_token?: unknown };
      if (typeof tokens.id_token !== 'string') throw new Error('the identity provider sent no ID token');
      keys ??= createRemoteJWKSet(new URL(found.jwks_uri), { timeoutDuration: 5000 });
      const { payload } = await jwtVerify(tokens.id_token, keys, {
        issuer: options.issuer,
        audience: options.clientId,
        clockTolerance: 30,
      });
      if (payload['nonce'] !== nonce) throw new Error('the ID token has the wrong nonce');
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('the ID token has no subject');
      return `${options.issuer}#${payload.sub}`;
    },
  };
}

/** A fresh state, nonce and PKCE verifier for one upstream login. */
export function upstreamSecrets(): { state: string; nonce: string; verifier: string } {
  const random = () => randomBytes(32).toString('base64url');
  return { state: random(), nonce: random(), verifier: random() };
}

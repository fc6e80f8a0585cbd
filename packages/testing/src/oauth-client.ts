import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

/**
 * An OAuthClientProvider kept in memory: what a real MCP client stores between runs (its
 * registration, tokens, PKCE verifier). `authorizationUrl` is where the SDK sent "the browser".
 */
export class MemoryOAuthProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  /** Set to identify the client by a client ID metadata document at this https URL instead of registering. */
  clientMetadataUrl: string | undefined;
  constructor(
    readonly redirect = 'http://127.0.0.1:8976/callback',
    readonly metadataOverrides: Partial<OAuthClientMetadata> = {},
  ) {}
  get redirectUrl(): string {
    return this.redirect;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Test MCP client',
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...this.metadataOverrides,
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** A browser for the login and consent pages: follows the forms, keeps the login cookie. */
export class PageAgent {
  cookie = '';
  /** The last page's HTML and status, for assertions. */
  last: { status: number; html: string; headers: Headers } | undefined;

  private async go(url: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(this.cookie ? { cookie: this.cookie } : {}) },
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';', 1)[0]!;
    return response;
  }

  private async page(response: Response): Promise<string> {
    const html = await response.text();
    this.last = { status: response.status, html, headers: response.headers };
    return html;
  }

  /** The action of the last page's first form (absolute). */
  action(): string {
    const match = /<form method="post" action="([^"]*)"/.exec(this.last?.html ?? '');
    if (!match) throw new Error(`no form on the page: ${this.last?.html.slice(0, 300) ?? ''}`);
    return match[1]!.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
  }

  /** The value of a hidden input of the last page. */
  field(name: string): string {
    const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(this.last?.html ?? '');
    if (!match) throw new Error(`no field ${name} on the page: ${this.last?.html.slice(0, 300) ?? ''}`);
    return match[1]!.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
  }

  async open(url: string | URL): Promise<Response> {
    const response = await this.go(String(url));
    if (response.status < 300 || response.status >= 400) await this.page(response);
    return response;
  }

  /** Posts a form of the last page to `action` (relative to `base`), as the browser would. */
  async submit(base: string | URL, action: string, fields: Record<string, string>, origin?: string): Promise<Response> {
    const url = new URL(action, base);
    const response = await this.go(url.toString(), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: origin ?? url.origin,
      },
      body: new URLSearchParams(fields).toString(),
    });
    if (response.status < 300 || response.status >= 400) await this.page(response);
    return response;
  }

  /**
   * The whole user part: open the authorization URL, log in (unless already), allow (or deny).
   * Resolves to the URL the browser is sent back to (the client's redirect URI with code or error).
   */
  async authorize(
    authorizationUrl: URL,
    user: { username: string; password: string },
    decision: 'allow' | 'deny' = 'allow',
  ): Promise<URL> {
    const opened = await this.open(authorizationUrl);
    if (opened.status >= 300 && opened.status < 400) return new URL(opened.headers.get('location')!);
    if (this.last?.html.includes('name="password"')) {
      await this.submit(authorizationUrl, this.action(), {
        pending: this.field('pending'),
        csrf: this.field('csrf'),
        username: user.username,
        password: user.password,
      });
      if (this.last?.status !== 200) throw new Error(`login failed (${this.last?.status}): ${this.last?.html ?? ''}`);
    }
    const consent = await this.submit(authorizationUrl, this.action(), {
      pending: this.field('pending'),
      csrf: this.field('csrf'),
      decision,
    });
    const location = consent.headers.get('location');
    if (!location) throw new Error(`consent did not redirect (${consent.status}): ${this.last?.html ?? ''}`);
    return new URL(location);
  }
}

/**
 * Connects the official SDK client to `url` with OAuth, the way an MCP client app does: the first
 * attempt is refused (401), the SDK discovers, registers and sends the user to the authorization
 * URL; the agent logs in and consents; the code goes back to the transport; the client reconnects.
 */
export async function connectWithOAuth(
  url: string,
  kind: 'sse' | 'streamable-http',
  provider: MemoryOAuthProvider,
  agent: PageAgent,
  user: { username: string; password: string },
): Promise<Client> {
  const endpoint = new URL(kind === 'sse' ? `${url}/sse` : `${url}/mcp`);
  const make = () =>
    kind === 'sse'
      ? new SSEClientTransport(endpoint, { authProvider: provider })
      : new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
  const client = new Client({ name: 'oauth-test', version: '1.0.0' });
  try {
    await client.connect(make());
    return client;
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !provider.authorizationUrl) throw error;
  }
  const back = await agent.authorize(provider.authorizationUrl, user);
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code in ${back.toString()}`);
  const transport = make();
  await transport.finishAuth(code);
  const connected = new Client({ name: 'oauth-test', version: '1.0.0' });
  await connected.connect(kind === 'sse' ? new SSEClientTransport(endpoint, { authProvider: provider }) : transport);
  return connected;
}

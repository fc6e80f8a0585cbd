import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PageAgent, rpc, type StartedService } from '../../testing/src/index.js';
import { buildApp, loadConfig } from '../src/index.js';
import type { DocumentFetcher } from '../src/oauth/client-metadata-document.js';
import { echoService } from './helpers/echo-service.js';

/**
 * OAuth with someone else involved: an external authorization server's JWTs (resource-server-only
 * mode), login delegated to an OpenID Connect provider, and clients identified by a metadata
 * document URL. The external parties are stand-ins on loopback that sign with real keys (jose).
 */

let dir: string;

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function start(env: Record<string, string>, fetcher?: DocumentFetcher): Promise<StartedService> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig(echoService.config, {
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'silent',
    MCP_AUTH: 'oauth',
    MCP_PUBLIC_URL: url,
    MCP_OAUTH_DB: join(dir, `oauth-${randomBytes(4).toString('hex')}.db`),
    ...env,
  });
  const app = await buildApp(echoService, {
    config,
    logger: pino({ level: 'silent' }),
    defaultMetrics: false,
    ...(fetcher ? { oauthDocumentFetcher: fetcher } : {}),
  });
  await app.listen({ port, host: '127.0.0.1' });
  return { url, port, app, close: () => app.close() };
}

/** A stand-in issuer: its keys, its JWKS and discovery documents, and tokens it signs. */
async function issuer() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let base = '';
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  const { server, url } = await listen((req, res) => {
    const route = routes.get((req.url ?? '').split('?', 1)[0]!);
    if (route) return route(req, res);
    res.writeHead(404).end();
  });
  base = url;
  const json = (res: ServerResponse, body: unknown) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  routes.set('/jwks', (_req, res) => json(res, { keys: [jwk] }));
  const sign = (
    claims: Record<string, unknown>,
    options: { audience?: string; issuer?: string; expiresIn?: string } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(options.issuer ?? base)
      .setAudience(options.audience ?? 'unset')
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(privateKey);
  return { server, url: base, routes, json, sign };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-oauth-ext-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resource-server-only mode (MCP_OAUTH_MODE=external)', () => {
  let idp: Awaited<ReturnType<typeof issuer>>;
  let svc: StartedService;
  beforeAll(async () => {
    idp = await issuer();
    idp.routes.set('/.well-known/openid-configuration', (_req, res) =>
      idp.json(res, { issuer: idp.url, jwks_uri: `${idp.url}/jwks` }),
    );
    svc = await start({ MCP_OAUTH_MODE: 'external', MCP_OAUTH_ISSUER: idp.url });
  });
  afterAll(async () => {
    await svc.close();
    idp.server.close();
  });
  const call = (token: string, tool = 'echo') =>
    rpc(
      svc.url,
      'tools/call',
      { name: tool, arguments: tool === 'echo' ? { message: 'm' } : { value: 'v' } },
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );

  it('points clients at the external authorization server', async () => {
    const prm = await fetch(`${svc.url}/.well-known/oauth-protected-resource`);
    expect(await prm.json()).toMatchObject({ resource: svc.url, authorization_servers: [idp.url] });
    // No built-in authorization server in this mode: its paths are unknown (and, like every unknown
    // path, need a credential first).
    expect((await fetch(`${svc.url}/.well-known/oauth-authorization-server`)).status).toBe(401);
    expect((await fetch(`${svc.url}/register`, { method: 'POST' })).status).toBe(401);
  });

  it('accepts a JWT signed by the issuer for this audience, with its scopes (scope or scp)', async () => {
    const token = await idp.sign({ sub: 'u1', scope: 'read write' }, { audience: svc.url });
    expect((await call(token)).status).toBe(200);
    expect((await call(token, 'write_thing')).status).toBe(200);
    const scp = await idp.sign({ sub: 'u2', scp: ['read'] }, { audience: svc.url });
    expect((await call(scp)).status).toBe(200);
    expect((await call(scp, 'write_thing')).status).toBe(403);
  });

  it('refuses another audience, another issuer, an expired token, a forged signature and no subject', async () => {
    const cases: [string, Promise<string>, string][] = [
      [
        'audience',
        idp.sign({ sub: 'u', scope: 'read' }, { audience: 'https://other.example/mcp' }),
        "the token's aud is wrong",
      ],
      [
        'issuer',
        idp.sign({ sub: 'u', scope: 'read' }, { audience: svc.url, issuer: 'https://evil.example' }),
        "the token's iss is wrong",
      ],
      ['expired', idp.sign({ sub: 'u', scope: 'read' }, { audience: svc.url, expiresIn: '-5m' }), 'the token expired'],
      ['no subject', idp.sign({ scope: 'read' }, { audience: svc.url }), 'the token has no subject'],
    ];
    for (const [name, token, reason] of cases) {
      const res = await call(await token);
      expect(res.status, name).toBe(401);
      expect(res.body, name).toMatchObject({ error: { message: `Unauthorized: ${reason}` } });
    }
    const good = await idp.sign({ sub: 'u', scope: 'read' }, { audience: svc.url });
    const [head, payload] = good.split('.');
    const forged = `${head}.${payload}.${randomBytes(256).toString('base64url')}`;
    expect((await call(forged)).body).toMatchObject({
      error: { message: 'Unauthorized: the token could not be verified' },
    });
  });
});

describe('login delegated to an OpenID Connect provider', () => {
  let idp: Awaited<ReturnType<typeof issuer>>;
  let svc: StartedService;
  const codes = new Map<string, { nonce: string; challenge: string }>();
  beforeAll(async () => {
    idp = await issuer();
    idp.routes.set('/.well-known/openid-configuration', (_req, res) =>
      idp.json(res, {
        issuer: idp.url,
        authorization_endpoint: `${idp.url}/authorize`,
        token_endpoint: `${idp.url}/token`,
        jwks_uri: `${idp.url}/jwks`,
      }),
    );
    // The provider "logs the user in" at once and redirects back with a code.
    idp.routes.set('/authorize', (req, res) => {
      const params = new URL(req.url ?? '', idp.url).searchParams;
      const code = randomBytes(8).toString('hex');
      codes.set(code, { nonce: params.get('nonce')!, challenge: params.get('code_challenge')! });
      const back = new URL(params.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', params.get('state')!);
      res.writeHead(302, { location: back.toString() }).end();
    });
    idp.routes.set('/token', (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const issued = codes.get(form.get('code') ?? '');
        const verifierOk =
          issued &&
          createHash('sha256')
            .update(form.get('code_verifier') ?? '')
            .digest('base64url') === issued.challenge;
        if (!issued || !verifierOk || form.get('client_secret') !== 'idp-secret') {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
          return;
        }
        void idp
          .sign({ sub: 'carol', nonce: issued.nonce }, { audience: 'mcp-client' })
          .then((idToken) => idp.json(res, { id_token: idToken, access_token: 'upstream', token_type: 'Bearer' }));
      });
    });
    svc = await start({
      MCP_OAUTH_OIDC_ISSUER: idp.url,
      MCP_OAUTH_OIDC_CLIENT_ID: 'mcp-client',
      MCP_OAUTH_OIDC_CLIENT_SECRET: 'idp-secret',
    });
  });
  afterAll(async () => {
    await svc.close();
    idp.server.close();
  });

  it('logs the user in at the provider, then asks for consent here, then issues a code', async () => {
    const registered = await fetch(`${svc.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:8976/cb'], token_endpoint_auth_method: 'none' }),
    });
    const { client_id } = (await registered.json()) as { client_id: string };
    const verifier = randomBytes(32).toString('base64url');
    const authorize = new URL(`${svc.url}/authorize`);
    for (const [name, value] of Object.entries({
      response_type: 'code',
      client_id,
      redirect_uri: 'http://127.0.0.1:8976/cb',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: 's1',
    })) {
      authorize.searchParams.set(name, value);
    }
    const agent = new PageAgent();
    await agent.open(authorize);
    expect(agent.last?.html).toContain('Log in with your identity provider');
    expect(agent.last?.html).not.toContain('name="password"');
    const toProvider = await agent.submit(authorize, 'oauth/login', {
      pending: agent.field('pending'),
      csrf: agent.field('csrf'),
      upstream: '1',
    });
    const providerUrl = new URL(toProvider.headers.get('location')!);
    expect(providerUrl.origin).toBe(idp.url);
    const back = await agent.open(new URL((await fetch(providerUrl, { redirect: 'manual' })).headers.get('location')!));
    expect(back.status).toBe(200);
    expect(agent.last?.html).toContain(`Signed in as <strong>${idp.url}#carol</strong>`);
    const done = await agent.submit(authorize, 'oauth/consent', {
      pending: agent.field('pending'),
      csrf: agent.field('csrf'),
      decision: 'allow',
    });
    const code = new URL(done.headers.get('location')!).searchParams.get('code');
    const tokens = await fetch(`${svc.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code!,
        code_verifier: verifier,
        client_id,
      }).toString(),
    });
    expect(tokens.status).toBe(200);
  });

  it('refuses a replayed or forged callback', async () => {
    const agent = new PageAgent();
    const res = await agent.open(`${svc.url}/oauth/callback?code=x&state=forged`);
    expect(res.status).toBe(400);
    expect(agent.last?.html).toContain('Request expired');
  });
});

describe('client ID metadata documents', () => {
  let svc: StartedService;
  const documents = new Map<string, { status: number; body: string }>();
  const fetched: string[] = [];
  beforeAll(async () => {
    svc = await start(
      { MCP_OAUTH_USERS: 'dave:scrypt.1024.8.1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      async (url) => {
        fetched.push(url);
        return documents.get(url) ?? { status: 404, body: '' };
      },
    );
  });
  afterAll(async () => svc.close());

  const start0 = (clientId: string, redirect: string) => {
    const url = new URL(`${svc.url}/authorize`);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', clientId);
    url.searchParams.set('redirect_uri', redirect);
    url.searchParams.set('code_challenge', createHash('sha256').update('v'.repeat(43)).digest('base64url'));
    url.searchParams.set('code_challenge_method', 'S256');
    return new PageAgent().open(url);
  };

  it('says it supports them, and accepts a client whose document names itself and its redirect URI', async () => {
    const metadata = (await (await fetch(`${svc.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata['client_id_metadata_document_supported']).toBe(true);
    const id = 'https://app.example/oauth/client.json';
    documents.set(id, {
      status: 200,
      body: JSON.stringify({ client_id: id, client_name: 'App', redirect_uris: ['https://app.example/cb'] }),
    });
    const res = await start0(id, 'https://app.example/cb');
    expect(res.status).toBe(200);
    expect(fetched).toContain(id);
  });

  it.each([
    [
      'a document naming another client',
      { client_id: 'https://other.example/c.json', redirect_uris: ['https://app.example/cb'] },
      'does not name itself',
    ],
    ['a bad redirect URI', { redirect_uris: ['http://evil.example/cb'] }, 'has a redirect URI that must be https'],
    ['not client metadata', { hello: 1 }, 'is not valid client metadata'],
  ])('refuses %s', async (_name, body, message) => {
    const id = `https://app.example/${randomBytes(4).toString('hex')}.json`;
    documents.set(id, { status: 200, body: JSON.stringify({ client_id: id, ...body }) });
    const agent = new PageAgent();
    const url = new URL(`${svc.url}/authorize`);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', id);
    url.searchParams.set('redirect_uri', 'https://app.example/cb');
    const res = await agent.open(url);
    expect(res.status).toBe(400);
    expect(agent.last?.html).toContain(message);
  });

  it('refuses a document that is too large, not JSON or missing, and never fetches a non-https client id', async () => {
    const big = 'https://app.example/big.json';
    documents.set(big, { status: 200, body: ' '.repeat(6000) });
    expect((await start0(big, 'https://app.example/cb')).status).toBe(400);
    fetched.length = 0;
    expect((await start0('http://app.example/c.json', 'https://app.example/cb')).status).toBe(400);
    expect((await start0('https://app.example/', 'https://app.example/cb')).status).toBe(400);
    expect(fetched).toEqual([]);
  });
});

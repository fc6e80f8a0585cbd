import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  connectWithOAuth,
  httpRequest,
  MemoryOAuthProvider,
  PageAgent,
  rpc,
  type StartedService,
} from '../../testing/src/index.js';
import { buildApp, loadConfig } from '../src/index.js';
import { hashPassword } from '../src/oauth/passwords.js';
import { echoService } from './helpers/echo-service.js';

/**
 * The built-in OAuth 2.1 authorization server, driven by the official SDK client's OAuth support
 * (discovery, dynamic registration, PKCE, token, refresh) and a page agent for the login and consent
 * pages, then every refusal the spec asks for.
 */

const USER = { username: 'alice', password: 'correct horse battery staple' };

let dir: string;
let svc: StartedService;
let publicUrl: string;

/** A free loopback port (the public URL must name the port before the service starts). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The echo service with the built-in authorization server, at MCP_PUBLIC_URL http://127.0.0.1:<port>. */
async function startOnItsOwnUrl(extra: Record<string, string> = {}): Promise<StartedService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig(echoService.config, {
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'silent',
    MCP_AUTH: 'oauth',
    MCP_OAUTH_USERS: `alice:${await hashPassword(USER.password)}`,
    MCP_OAUTH_DB: join(dir, `oauth-${randomBytes(4).toString('hex')}.db`),
    MCP_RATE_LIMIT: '0',
    MCP_PUBLIC_URL: url,
    ...extra,
  });
  const app = await buildApp(echoService, { config, logger: pino({ level: 'silent' }), defaultMetrics: false });
  await app.listen({ port, host: '127.0.0.1' });
  return { url, port, app, close: () => app.close() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-oauth-'));
  svc = await startOnItsOwnUrl();
  publicUrl = svc.url;
});
afterAll(async () => {
  await svc.close();
  rmSync(dir, { recursive: true, force: true });
});

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** A public client registered by hand, and an authorization URL for it. */
async function registerClient(redirect = 'http://127.0.0.1:8976/callback') {
  const res = await fetch(`${publicUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'by hand', redirect_uris: [redirect], token_endpoint_auth_method: 'none' }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { client_id: string };
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(clientId: string, params: Record<string, string | undefined>) {
  const url = new URL(`${publicUrl}/authorize`);
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: 'http://127.0.0.1:8976/callback',
    state: 'st',
    scope: 'read write',
    ...params,
  };
  for (const [name, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(name, value);
  return url;
}

/** Runs the browser part by hand and exchanges the code: the tokens of a fresh grant. */
async function grant(scope = 'read write') {
  const { client_id } = await registerClient();
  const { verifier, challenge } = pkce();
  const back = await new PageAgent().authorize(
    authorizeUrl(client_id, { code_challenge: challenge, code_challenge_method: 'S256', scope }),
    USER,
  );
  const code = back.searchParams.get('code')!;
  const res = await fetch(
    `${publicUrl}/token`,
    form({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id,
      redirect_uri: 'http://127.0.0.1:8976/callback',
    }),
  );
  expect(res.status).toBe(200);
  return { clientId: client_id, code, verifier, tokens: (await res.json()) as Record<string, string> };
}

describe('discovery', () => {
  it('answers 401 with WWW-Authenticate pointing at the protected-resource metadata of the endpoint', async () => {
    const mcp = await httpRequest(`${publicUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(mcp.status).toBe(401);
    expect(mcp.headers['www-authenticate']).toBe(
      `Bearer realm="mcp-echo", resource_metadata="${publicUrl}/.well-known/oauth-protected-resource/mcp"`,
    );
    const sse = await httpRequest(`${publicUrl}/sse`);
    expect(sse.headers['www-authenticate']).toBe(
      `Bearer realm="mcp-echo", resource_metadata="${publicUrl}/.well-known/oauth-protected-resource/sse"`,
    );
  });

  it('serves RFC 9728 and RFC 8414 metadata, cross-origin', async () => {
    const prm = await httpRequest(`${publicUrl}/.well-known/oauth-protected-resource/mcp`, {
      headers: { origin: 'https://claude.ai' },
    });
    expect(prm.status).toBe(200);
    expect(prm.headers['access-control-allow-origin']).toBe('*');
    expect(prm.json).toEqual({
      resource: `${publicUrl}/mcp`,
      authorization_servers: [publicUrl],
      scopes_supported: ['read', 'write'],
      bearer_methods_supported: ['header'],
      resource_name: `MCP server at ${publicUrl}`,
    });
    const as = await httpRequest(`${publicUrl}/.well-known/oauth-authorization-server`);
    expect(as.json).toMatchObject({
      issuer: publicUrl,
      authorization_endpoint: `${publicUrl}/authorize`,
      token_endpoint: `${publicUrl}/token`,
      registration_endpoint: `${publicUrl}/register`,
      revocation_endpoint: `${publicUrl}/revoke`,
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
    });
  });
});

describe.each(['streamable-http', 'sse'] as const)('the whole flow with the SDK client over %s', (kind) => {
  let client: Client;
  let provider: MemoryOAuthProvider;
  afterAll(async () => client?.close());

  it('registers, authorizes with PKCE, gets tokens, and calls tools', async () => {
    provider = new MemoryOAuthProvider();
    client = await connectWithOAuth(publicUrl, kind, provider, new PageAgent(), USER);
    expect(provider.client?.client_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(provider.saved).toMatchObject({ token_type: 'Bearer', scope: 'read write', expires_in: 3600 });
    expect(provider.saved?.access_token).toMatch(/^mcpat_/);
    const result = await client.callTool({ name: 'echo', arguments: { message: 'with a token' } });
    expect(result.structuredContent).toEqual({ message: 'with a token' });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['echo', 'slow', 'fail', 'write_thing']);
  });

  it('refreshes (the refresh token rotates) and keeps working with the new access token', async () => {
    const old = provider.saved!;
    const res = await fetch(
      `${publicUrl}/token`,
      form({ grant_type: 'refresh_token', refresh_token: old.refresh_token!, client_id: provider.client!.client_id }),
    );
    expect(res.status).toBe(200);
    const fresh = (await res.json()) as { access_token: string; refresh_token: string };
    expect(fresh.refresh_token).not.toBe(old.refresh_token);
    const call = await rpc(
      publicUrl,
      'tools/call',
      { name: 'echo', arguments: { message: 'x' } },
      {
        headers: { authorization: `Bearer ${fresh.access_token}` },
      },
    );
    expect(call.status).toBe(200);
  });
});

describe('refusals', () => {
  it('refuses an expired, a revoked and an unknown access token, saying why', async () => {
    const { tokens, clientId } = await grant();
    const call = (token: string) =>
      rpc(publicUrl, 'tools/list', undefined, { headers: { authorization: `Bearer ${token}` } });
    expect((await call(tokens['access_token']!)).status).toBe(200);
    const unknown = await call('mcpat_nope');
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toContain(
      'error="invalid_token", error_description="unknown token"',
    );
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 3601_000);
      const expired = await call(tokens['access_token']!);
      expect(expired.status).toBe(401);
      expect(expired.body).toMatchObject({ error: { message: 'Unauthorized: the token expired' } });
    } finally {
      vi.useRealTimers();
    }
    const revoked = await grant();
    const revoke = await fetch(
      `${publicUrl}/revoke`,
      form({ token: revoked.tokens['access_token']!, client_id: revoked.clientId }),
    );
    expect(revoke.status).toBe(200);
    expect((await call(revoked.tokens['access_token']!)).body).toMatchObject({
      error: { message: 'Unauthorized: the token was revoked' },
    });
    expect(clientId).not.toBe(revoked.clientId);
  });

  it('revokes the whole grant when a rotated refresh token is used again (reuse detection)', async () => {
    const { tokens, clientId } = await grant();
    const refresh = (token: string) =>
      fetch(`${publicUrl}/token`, form({ grant_type: 'refresh_token', refresh_token: token, client_id: clientId }));
    const first = await refresh(tokens['refresh_token']!);
    expect(first.status).toBe(200);
    const rotated = (await first.json()) as Record<string, string>;
    const replay = await refresh(tokens['refresh_token']!);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'The refresh token was already used; the grant is revoked',
    });
    // Everything of the grant is gone: the rotated refresh token and its access token.
    expect((await refresh(rotated['refresh_token']!)).status).toBe(400);
    const call = await rpc(publicUrl, 'tools/list', undefined, {
      headers: { authorization: `Bearer ${rotated['access_token']}` },
    });
    expect(call.status).toBe(401);
  });

  it('refuses a code used twice, and revokes what the first use granted', async () => {
    const { clientId, code, verifier, tokens } = await grant();
    const again = await fetch(
      `${publicUrl}/token`,
      form({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId }),
    );
    expect(await again.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'The authorization code was already used',
    });
    const call = await rpc(publicUrl, 'tools/list', undefined, {
      headers: { authorization: `Bearer ${tokens['access_token']}` },
    });
    expect(call.status).toBe(401);
  });

  it('never redirects to an unregistered redirect URI (exact match), and shows the error instead', async () => {
    const { client_id } = await registerClient();
    const { challenge } = pkce();
    for (const redirect of [
      'http://127.0.0.1:8976/callback/',
      'http://127.0.0.1:8976/callback?x=1',
      'http://127.0.0.1:8977/callback',
      'http://evil.example/callback',
      'HTTP://127.0.0.1:8976/callback',
    ]) {
      const agent = new PageAgent();
      const res = await agent.open(
        authorizeUrl(client_id, { redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256' }),
      );
      expect(res.status, redirect).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(agent.last?.html).toContain('The redirect URI is not one this client registered (exact match)');
    }
  });

  it('requires PKCE with S256: missing, plain and malformed challenges go back as errors', async () => {
    const { client_id } = await registerClient();
    const cases: [Record<string, string | undefined>, string][] = [
      [{}, 'PKCE is required: send code_challenge with S256'],
      [
        { code_challenge: pkce().verifier, code_challenge_method: 'plain' },
        'Only code_challenge_method=S256 is supported (plain is not)',
      ],
      [{ code_challenge: 'short', code_challenge_method: 'S256' }, 'code_challenge is not a base64url S256 challenge'],
    ];
    for (const [params, description] of cases) {
      const res = await new PageAgent().open(authorizeUrl(client_id, params));
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location')!);
      expect(Object.fromEntries(back.searchParams)).toEqual({
        error: 'invalid_request',
        error_description: description,
        state: 'st',
      });
    }
  });

  it('refuses a verifier that does not match the challenge', async () => {
    const { client_id } = await registerClient();
    const { challenge } = pkce();
    const back = await new PageAgent().authorize(
      authorizeUrl(client_id, { code_challenge: challenge, code_challenge_method: 'S256' }),
      USER,
    );
    const res = await fetch(
      `${publicUrl}/token`,
      form({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code')!,
        code_verifier: pkce().verifier,
        client_id,
      }),
    );
    expect(await res.json()).toEqual({ error: 'invalid_grant', error_description: 'PKCE verification failed' });
  });

  it('refuses a token for another resource, and an authorization for another resource', async () => {
    const { client_id } = await registerClient();
    const { challenge } = pkce();
    const res = await new PageAgent().open(
      authorizeUrl(client_id, {
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: 'http://127.0.0.1:9/other',
      }),
    );
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');
    // Another service sharing the same database, at another address: the first service's tokens are not its own.
    const other = await startOnItsOwnUrl({ MCP_OAUTH_DB: svc.app.mcp.config.MCP_OAUTH_DB! });
    try {
      const { tokens } = await grant();
      const refused = await rpc(other.url, 'tools/list', undefined, {
        headers: { authorization: `Bearer ${tokens['access_token']}` },
      });
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: { message: 'Unauthorized: the token is for another resource' } });
    } finally {
      await other.close();
    }
  });

  it('answers 403 insufficient_scope for a tool the token does not cover, and lists only what it covers', async () => {
    const { tokens } = await grant('read');
    const headers = { authorization: `Bearer ${tokens['access_token']}` };
    const list = await rpc(publicUrl, 'tools/list', undefined, { headers });
    expect((list.body as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name)).toEqual([
      'echo',
      'slow',
      'fail',
    ]);
    const write = await rpc(publicUrl, 'tools/call', { name: 'write_thing', arguments: { value: 'x' } }, { headers });
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toBe(
      `Bearer realm="mcp-echo", error="insufficient_scope", scope="read write", resource_metadata="${publicUrl}/.well-known/oauth-protected-resource"`,
    );
    expect(write.body).toMatchObject({
      error: { message: 'Insufficient scope: write_thing needs the "write" scope, which this token does not have' },
    });
    const read = await rpc(publicUrl, 'tools/call', { name: 'echo', arguments: { message: 'ok' } }, { headers });
    expect(read.status).toBe(200);
  });

  it('refuses a consent post without the CSRF token, from another origin, or from another browser', async () => {
    const { client_id } = await registerClient();
    const { challenge } = pkce();
    const url = authorizeUrl(client_id, { code_challenge: challenge, code_challenge_method: 'S256' });
    const agent = new PageAgent();
    await agent.open(url);
    await agent.submit(url, 'oauth/login', {
      pending: agent.field('pending'),
      csrf: agent.field('csrf'),
      ...USER,
    });
    const pending = agent.field('pending');
    const csrf = agent.field('csrf');
    const noCsrf = await agent.submit(url, 'oauth/consent', { pending, decision: 'allow' });
    expect(noCsrf.status).toBe(400);
    const wrongCsrf = await agent.submit(url, 'oauth/consent', { pending, csrf: `${csrf}x`, decision: 'allow' });
    expect(wrongCsrf.status).toBe(400);
    const foreign = await agent.submit(
      url,
      'oauth/consent',
      { pending, csrf, decision: 'allow' },
      'https://evil.example',
    );
    expect(foreign.status).toBe(403);
    const otherBrowser = new PageAgent();
    const stolen = await otherBrowser.submit(url, 'oauth/consent', { pending, csrf, decision: 'allow' });
    expect(stolen.status).toBe(400);
    // The real form still works afterwards.
    const allowed = await agent.submit(url, 'oauth/consent', { pending, csrf, decision: 'allow' });
    expect(allowed.status).toBe(302);
  });

  it('serves the login and consent pages unframeable, uncached and script-free', async () => {
    const { client_id } = await registerClient();
    const agent = new PageAgent();
    await agent.open(authorizeUrl(client_id, { code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    const headers = agent.last!.headers;
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(headers.get('cache-control')).toBe('no-store');
    expect(agent.last!.html).not.toContain('<script');
  });

  it('refuses a wrong password without saying which part was wrong', async () => {
    const { client_id } = await registerClient();
    const url = authorizeUrl(client_id, { code_challenge: pkce().challenge, code_challenge_method: 'S256' });
    for (const user of [
      { username: 'alice', password: 'wrong' },
      { username: 'mallory', password: USER.password },
    ]) {
      const agent = new PageAgent();
      await agent.open(url);
      const res = await agent.submit(url, 'oauth/login', {
        pending: agent.field('pending'),
        csrf: agent.field('csrf'),
        ...user,
      });
      expect(res.status).toBe(401);
      expect(agent.last?.html).toContain('Wrong user name or password.');
    }
  });

  it('locks a user name out after repeated failures', async () => {
    const { client_id } = await registerClient();
    const url = authorizeUrl(client_id, { code_challenge: pkce().challenge, code_challenge_method: 'S256' });
    const attempt = async (password: string) => {
      const agent = new PageAgent();
      await agent.open(url);
      return (
        await agent.submit(url, 'oauth/login', {
          pending: agent.field('pending'),
          csrf: agent.field('csrf'),
          username: 'bob',
          password,
        })
      ).status;
    };
    // Ten failures a minute per user name, refilled continuously (one every 6 s): the attempts take
    // time of their own (scrypt, two requests each), so the bound is eleven plus what refilled meanwhile.
    const started = performance.now();
    const statuses: number[] = [];
    while (statuses.at(-1) !== 429) {
      const refilled = Math.floor((performance.now() - started) / 6000);
      // the failure that finds the bucket empty is still answered 401; the next one is refused
      if (statuses.length > 11 + refilled) break;
      statuses.push(await attempt('guess'));
    }
    expect(statuses.slice(0, 10)).toEqual(Array<number>(10).fill(401));
    expect(statuses.at(-1)).toBe(429);
    // Once refused, the name stays locked out (even with no more failures counted).
    expect(await attempt('guess')).toBe(429);
  });
});

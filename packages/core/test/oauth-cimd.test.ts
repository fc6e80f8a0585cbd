import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { tableResolver } from '@mcp-sse/net-guard';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  connectWithOAuth,
  MemoryOAuthProvider,
  PageAgent,
  selfSignedCertificate,
  type StartedService,
} from '../../testing/src/index.js';
import { buildApp, loadConfig } from '../src/index.js';
import { MAX_DOCUMENT_BYTES } from '../src/oauth/client-metadata-document.js';
import { createGuardedDocumentFetcher } from '../src/oauth/document-fetcher.js';
import { hashPassword } from '../src/oauth/passwords.js';
import { echoService } from './helpers/echo-service.js';

/**
 * Client ID metadata documents fetched by the core's default fetcher, which is the fetch service's
 * SSRF guard (@mcp-sse/net-guard): private addresses in every spelling are refused before a
 * connection is made (a listening server counts the requests that reach it: none must), documents
 * over the cap, of the wrong type or redirected are refused, and a valid document on an allowed
 * host lets the official SDK client authorize with its URL as client_id.
 */

const USER = { username: 'alice', password: 'correct horse battery staple' };
const REDIRECT = 'http://127.0.0.1:8976/callback';

let dir: string;
let documents: Server;
let port: number;
let cert: { key: string; cert: string };
/** Paths requested from the document server, in order. */
const hits: string[] = [];

function documentFor(url: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    client_id: url,
    client_name: 'Metadata document client',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-cimd-'));
  cert = selfSignedCertificate('client.test', 'localhost', '127.0.0.1', '::1');
  documents = createHttpsServer(cert, (req, res) => {
    const path = req.url ?? '/';
    hits.push(path);
    const self = `https://${req.headers.host}${path}`;
    if (path === '/big.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(documentFor(self, { padding: 'x'.repeat(MAX_DOCUMENT_BYTES) }));
    } else if (path === '/html.json') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(documentFor(self));
    } else if (path === '/moved.json') {
      res.writeHead(302, { location: '/client.json' });
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(documentFor(self));
    }
  });
  await new Promise<void>((resolve) => documents.listen(0, '::', resolve));
  port = (documents.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => documents.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('the guarded document fetcher', () => {
  const dns = tableResolver({
    'client.test': ['127.0.0.1'],
    'internal.test': ['10.0.0.5'],
    'loopback.test': ['127.0.0.1'],
    'mixed.test': ['93.184.216.34', '127.0.0.1'],
    'v6.test': ['::1'],
    'metadata.test': ['169.254.169.254'],
    localhost: ['127.0.0.1', '::1'],
  });
  const fetcher = createGuardedDocumentFetcher({
    allowedHosts: ['client.test'],
    maxBytes: MAX_DOCUMENT_BYTES,
    timeoutMs: 5000,
    userAgent: 'test',
    resolver: dns.resolver,
  });

  it.each([
    ['IPv4', `https://127.0.0.1:PORT/c.json`, '127.0.0.1, loopback'],
    ['IPv4 decimal', `https://2130706433:PORT/c.json`, '127.0.0.1, loopback'],
    ['IPv4 octal', `https://0177.0.0.1:PORT/c.json`, '127.0.0.1, loopback'],
    ['IPv4 hex', `https://0x7f000001:PORT/c.json`, '127.0.0.1, loopback'],
    ['IPv4 short', `https://127.1:PORT/c.json`, '127.0.0.1, loopback'],
    ['IPv6 loopback', `https://[::1]:PORT/c.json`, '::1, loopback'],
    ['IPv6 mapped', `https://[::ffff:127.0.0.1]:PORT/c.json`, '::ffff:7f00:1, IPv4-mapped IPv6 of 127.0.0.1'],
    ['localhost', `https://localhost:PORT/c.json`, '127.0.0.1, loopback'],
    ['localhost.', `https://localhost.:PORT/c.json`, '127.0.0.1, loopback'],
    ['a name resolving to loopback', `https://loopback.test:PORT/c.json`, '127.0.0.1, loopback'],
    ['a name resolving to IPv6 loopback', `https://v6.test:PORT/c.json`, '::1, loopback'],
    ['a name resolving to a private network', `https://internal.test:PORT/c.json`, '10.0.0.5, private network'],
    ['a name with one public and one private address', `https://mixed.test:PORT/c.json`, '127.0.0.1, loopback'],
  ])('refuses %s before connecting', async (_, template, what) => {
    const before = hits.length;
    const url = template.replace('PORT', String(port));
    await expect(fetcher(url)).rejects.toThrow(
      new RegExp(
        `^refused: \\S+ (is|resolves to) a private address \\(${what.replaceAll(/[().]/g, '\\$&')}\\); ` +
          'list the host in MCP_OAUTH_CLIENT_METADATA_ALLOWED_HOSTS to allow$',
      ),
    );
    expect(hits.length).toBe(before);
  });

  it('refuses a cloud metadata address', async () => {
    await expect(fetcher(`https://metadata.test:${port}/c.json`)).rejects.toThrow(
      'refused: metadata.test resolves to a cloud metadata address (169.254.169.254); list it in MCP_OAUTH_CLIENT_METADATA_ALLOWED_HOSTS if you really mean to fetch it',
    );
  });

  it('refuses a document over the cap, one not served as JSON, and a redirect (without following it)', async () => {
    const trusted = createGuardedDocumentFetcher({
      allowedHosts: ['client.test'],
      maxBytes: MAX_DOCUMENT_BYTES,
      timeoutMs: 5000,
      userAgent: 'test',
      resolver: dns.resolver,
      ca: cert.cert,
    });
    await expect(trusted(`https://client.test:${port}/big.json`)).rejects.toThrow(
      `the document is larger than ${MAX_DOCUMENT_BYTES} bytes`,
    );
    await expect(trusted(`https://client.test:${port}/html.json`)).rejects.toThrow(
      'the document is served as text/html, not application/json',
    );
    const before = hits.length;
    await expect(trusted(`https://client.test:${port}/moved.json`)).rejects.toThrow(
      `stopped after 0 redirects (metadata documents are not redirected); the next one was to https://client.test:${port}/client.json`,
    );
    expect(hits.slice(before)).toEqual(['/moved.json']);
    const ok = await trusted(`https://client.test:${port}/client.json`);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ client_id: `https://client.test:${port}/client.json` });
  });

  it('refuses http and a certificate it cannot verify', async () => {
    await expect(fetcher(`http://client.test:${port}/client.json`)).rejects.toThrow(
      'only https metadata documents are fetched',
    );
    await expect(fetcher(`https://client.test:${port}/client.json`)).rejects.toThrow(
      /^TLS handshake with client\.test:\d+ failed \((SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)\)$/,
    );
  });
});

describe('client ID metadata documents in the authorization flow (default fetcher)', () => {
  let svc: StartedService;
  let publicUrl: string;
  let client: Client | undefined;

  async function freePort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port: free } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    return free;
  }

  beforeAll(async () => {
    const servicePort = await freePort();
    publicUrl = `http://127.0.0.1:${servicePort}`;
    const config = loadConfig(echoService.config, {
      HOST: '127.0.0.1',
      PORT: String(servicePort),
      LOG_LEVEL: 'silent',
      MCP_AUTH: 'oauth',
      MCP_OAUTH_USERS: `alice:${await hashPassword(USER.password)}`,
      MCP_OAUTH_DB: join(dir, `oauth-${randomBytes(4).toString('hex')}.db`),
      MCP_RATE_LIMIT: '0',
      MCP_PUBLIC_URL: publicUrl,
      MCP_OAUTH_CLIENT_METADATA_ALLOWED_HOSTS: 'client.test',
    });
    const app = await buildApp(echoService, {
      config,
      logger: pino({ level: 'silent' }),
      defaultMetrics: false,
      oauthDocumentNetwork: { resolver: tableResolver({ 'client.test': ['127.0.0.1'] }).resolver, ca: cert.cert },
    });
    await app.listen({ port: servicePort, host: '127.0.0.1' });
    svc = { url: publicUrl, port: servicePort, app, close: () => app.close() };
  });
  afterAll(async () => {
    await client?.close();
    await svc.close();
  });

  it('advertises metadata documents by default', async () => {
    const res = await fetch(`${publicUrl}/.well-known/oauth-authorization-server`);
    expect(((await res.json()) as Record<string, unknown>)['client_id_metadata_document_supported']).toBe(true);
  });

  it('lets the SDK client authorize with its document URL as client_id, and call tools', async () => {
    const documentUrl = `https://client.test:${port}/client.json`;
    const provider = new MemoryOAuthProvider(REDIRECT);
    provider.clientMetadataUrl = documentUrl;
    client = await connectWithOAuth(publicUrl, 'streamable-http', provider, new PageAgent(), USER);
    expect(provider.client?.client_id).toBe(documentUrl);
    expect(provider.authorizationUrl?.searchParams.get('client_id')).toBe(documentUrl);
    const result = await client.callTool({ name: 'echo', arguments: { message: 'via a metadata document' } });
    expect(result.structuredContent).toEqual({ message: 'via a metadata document' });
  });

  it('shows the refusal to the user for a document URL on a private address', async () => {
    const before = hits.length;
    const agent = new PageAgent();
    const url = new URL(`${publicUrl}/authorize`);
    for (const [name, value] of Object.entries({
      response_type: 'code',
      client_id: `https://[::ffff:127.0.0.1]:${port}/client.json`,
      redirect_uri: REDIRECT,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })) {
      url.searchParams.set(name, value);
    }
    const res = await agent.open(url);
    expect(res.status).toBe(400);
    expect(agent.last?.html).toContain(
      'could not be fetched: refused: ::ffff:7f00:1 is a private address (::ffff:7f00:1, IPv4-mapped IPv6 of 127.0.0.1)',
    );
    expect(hits.length).toBe(before);
  });
});

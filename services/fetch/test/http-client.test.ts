import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

import {
  createAddressPolicy,
  createHttpClient,
  createSsrfGuard,
  FetchError,
  type HttpClient,
  type HttpClientOptions,
} from '@mcp-sse/net-guard';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { testPolicy, type TestResolver, testResolver } from './helpers/network.js';
import { fixture, html, redirect, startServer, type TestServer } from './helpers/servers.js';
import { selfSignedCertificate } from './helpers/tls.js';

const CAP = 64 * 1024;

let site: TestServer; // 127.0.0.1:P plays the public internet (the only loopback endpoint the test policy allows)
let victim: TestServer; // 127.0.0.1:V plays an internal service: it must never receive a request
let victim6: TestServer; // [::1]:V, the same service over IPv6 loopback
let rebindVictim: TestServer; // 127.0.0.2:P, where a rebinding DNS answer would lead
let secure: TestServer; // https on 127.0.0.1:S with a certificate for public.test
let closedPort: number;
let certificate: { key: string; cert: string };
let dns: TestResolver;
let client: HttpClient;

const victimHits = () => victim.hits.length + victim6.hits.length + rebindVictim.hits.length;

async function startVictims(): Promise<void> {
  // Both victims share one port number so that every spelling of "loopback:V" lands on one of them.
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const v4 = await startServer();
    try {
      victim6 = await startServer({ host: '::1', port: v4.port });
      victim = v4;
      return;
    } catch {
      await v4.close();
    }
  }
  throw new Error('could not listen on 127.0.0.1 and ::1 with the same port');
}

function makeClient(overrides: Partial<HttpClientOptions> = {}, resolver = dns.resolver): HttpClient {
  const policy = testPolicy([
    { host: '127.0.0.1', port: site.port },
    { host: '127.0.0.1', port: secure.port },
    { host: '127.0.0.1', port: closedPort },
  ]);
  return createHttpClient({
    guard: createSsrfGuard({ policy, resolver }),
    userAgent: 'TestAgent/1.0 (fetch tests)',
    timeoutMs: 3000,
    maxBodyBytes: CAP,
    maxRedirects: 3,
    ca: certificate.cert,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<FetchError> {
  const error: unknown = await promise.then(
    () => new Error('expected the request to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FetchError);
  return error as FetchError;
}

beforeAll(async () => {
  certificate = selfSignedCertificate('public.test');
  site = await startServer();
  await startVictims();
  rebindVictim = await startServer({ host: '127.0.0.2', port: site.port });
  secure = await startServer({ tls: certificate });
  const probe = await startServer();
  closedPort = probe.port;
  await probe.close();
  dns = testResolver({
    'public.test': ['127.0.0.1'],
    'www.public.test': ['127.0.0.1'],
    'other.test': ['127.0.0.1'],
    localhost: ['127.0.0.1', '::1'],
    'evil.test': ['127.0.0.1'],
    'evil6.test': ['::1'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'mixed.test': ['127.0.0.1', '10.0.0.1'],
    'metadata.test': ['169.254.169.254'],
    'rebind.test': (call) => (call === 1 ? ['127.0.0.1'] : ['127.0.0.2']),
  });
  for (const server of [victim, victim6, rebindVictim]) server.route('/', html('<p>internal secret</p>'));
  client = makeClient();
});

afterAll(async () => {
  await Promise.all([site, victim, victim6, rebindVictim, secure].map((server) => server.close()));
});

afterEach(() => {
  site.hits.length = 0;
});

const siteUrl = (path: string, host = 'public.test') => `http://${host}:${site.port}${path}`;

describe('SSRF: private targets are refused before any connection', () => {
  const spellings = () => {
    const v = victim.port;
    return [
      `http://127.0.0.1:${v}/`,
      `http://localhost:${v}/`,
      `http://2130706433:${v}/`,
      `http://0x7f000001:${v}/`,
      `http://0x7f.1:${v}/`,
      `http://0177.0.0.1:${v}/`,
      `http://0177.1:${v}/`,
      `http://127.1:${v}/`,
      `http://127.0.1:${v}/`,
      `http://0.0.0.0:${v}/`,
      `http://0:${v}/`,
      `http://[::1]:${v}/`,
      `http://[::ffff:127.0.0.1]:${v}/`,
      `http://[::ffff:7f00:1]:${v}/`,
      `http://[0:0:0:0:0:ffff:127.0.0.1]:${v}/`,
      `http://[::127.0.0.1]:${v}/`,
      `http://[64:ff9b::7f00:1]:${v}/`,
      `http://[2002:7f00:1::]:${v}/`,
      `http://[::]:${v}/`,
      `http://evil.test:${v}/`,
      `http://evil6.test:${v}/`,
      `http://mapped.test:${v}/`,
      `http://metadata.test:${v}/`,
      `https://evil.test:${v}/`,
    ];
  };

  it('refuses every spelling of loopback, and the victim records no hit', async () => {
    for (const url of spellings()) {
      const error = await failure(client.get(url));
      expect(error.kind, url).toBe('REFUSED');
      expect(error.message, url).toMatch(/^refused: .+ (is|resolves to) a (private|cloud metadata) address \(/);
    }
    expect(victimHits()).toBe(0);
  });

  it('refuses a name with one private address even on the allowed endpoint', async () => {
    const error = await failure(client.get(siteUrl('/', 'mixed.test')));
    expect(error.message).toBe(
      'refused: mixed.test resolves to a private address (10.0.0.1, private network); set FETCH_ALLOW_PRIVATE=true to allow',
    );
    expect(site.hits).toEqual([]);
  });

  it('control: with FETCH_ALLOW_PRIVATE=true the same URLs do reach the victim', async () => {
    const open = createHttpClient({
      guard: createSsrfGuard({
        policy: createAddressPolicy({ allowPrivate: true, allowedHosts: [], deniedHosts: [] }),
        resolver: dns.resolver,
      }),
      userAgent: 'TestAgent/1.0',
      timeoutMs: 3000,
      maxBodyBytes: CAP,
      maxRedirects: 3,
    });
    const v4 = await open.get(`http://0x7f.1:${victim.port}/`);
    const v6 = await open.get(`http://[::1]:${victim.port}/`);
    expect([v4.status, v6.status]).toEqual([200, 200]);
    expect(v4.body.toString()).toContain('internal secret');
    expect([victim.hits.length, victim6.hits.length]).toEqual([1, 1]);
    victim.hits.length = 0;
    victim6.hits.length = 0;
  });

  it('re-checks every redirect hop: a public page redirecting inward is refused', async () => {
    const v = victim.port;
    const targets = [
      `http://127.0.0.1:${v}/`,
      `http://2130706433:${v}/`,
      `http://[::1]:${v}/`,
      `http://evil.test:${v}/`,
      `http://localhost:${v}/`,
    ];
    for (const [index, target] of targets.entries()) {
      site.route(`/jump-${index}`, redirect(target));
      const error = await failure(client.get(siteUrl(`/jump-${index}`)));
      expect(error.kind, target).toBe('REFUSED');
    }
    site.route('/to-file', redirect('file:///etc/passwd'));
    expect((await failure(client.get(siteUrl('/to-file')))).message).toBe(
      'refused: only http and https URLs are fetched (got file:)',
    );
    expect(site.hits.map((hit) => hit.path)).toEqual([...targets.map((_, i) => `/jump-${i}`), '/to-file']);
    expect(victimHits()).toBe(0);
  });

  it('pins the connection to the checked address: a second DNS answer is never used', async () => {
    site.route('/pinned', html('<p>public page</p>'));
    const response = await client.get(siteUrl('/pinned', 'rebind.test'));
    expect(response.body.toString()).toBe('<p>public page</p>');
    expect(dns.calls.filter((name) => name === 'rebind.test')).toHaveLength(1);
    expect(rebindVictim.hits).toEqual([]);
    // Control: the rebinding target is reachable when DNS answers with it and the policy allows it.
    const open = createHttpClient({
      guard: createSsrfGuard({
        policy: createAddressPolicy({ allowPrivate: true, allowedHosts: [], deniedHosts: [] }),
        resolver: testResolver({ 'rebind.test': ['127.0.0.2'] }).resolver,
      }),
      userAgent: 'TestAgent/1.0',
      timeoutMs: 3000,
      maxBodyBytes: CAP,
      maxRedirects: 0,
    });
    expect((await open.get(siteUrl('/', 'rebind.test'))).body.toString()).toContain('internal secret');
    expect(rebindVictim.hits).toHaveLength(1);
    rebindVictim.hits.length = 0;
  });

  it('pins TLS connections too, while the certificate is still checked against the host name', async () => {
    secure.route('/', html('<p>secure page</p>'));
    const response = await client.get(`https://public.test:${secure.port}/`);
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('<p>secure page</p>');
    const error = await failure(client.get(`https://other.test:${secure.port}/`));
    expect(error.kind).toBe('CONNECT');
    expect(error.message).toBe(`TLS handshake with other.test:${secure.port} failed (ERR_TLS_CERT_ALTNAME_INVALID)`);
    const untrusted = makeClient({ ca: undefined });
    expect((await failure(untrusted.get(`https://public.test:${secure.port}/`))).message).toMatch(
      /^TLS handshake with public\.test:\d+ failed \((SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)\)$/,
    );
    expect(secure.hits).toHaveLength(1);
  });
});

describe('responses', () => {
  it('fetches a real HTML document with our user agent and standard headers', async () => {
    const page = fixture('zlib-how.html');
    site.route('/zlib', html(page));
    const response = await client.get(siteUrl('/zlib'), { headers: { 'Accept-Language': 'en', 'X-Trace': 'abc' } });
    expect(response).toMatchObject({
      url: siteUrl('/zlib'),
      finalUrl: siteUrl('/zlib'),
      status: 200,
      contentType: 'text/html; charset=utf-8',
      truncated: false,
      redirects: [],
    });
    expect(response.body.toString('utf8')).toBe(page);
    const headers = site.hits[0]?.headers;
    expect(headers?.['user-agent']).toBe('TestAgent/1.0 (fetch tests)');
    expect(headers?.['accept-encoding']).toBe('gzip, deflate, br');
    expect(headers?.['accept-language']).toBe('en');
    expect(headers?.['x-trace']).toBe('abc');
  });

  it('returns error statuses as responses', async () => {
    const response = await client.get(siteUrl('/missing'));
    expect(response.status).toBe(404);
    expect(response.body.toString()).toBe('not found');
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('decodes %s bodies', async (encoding, compress) => {
    const page = fixture('libffi-the-basics.html');
    site.route(`/${encoding}`, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': encoding }).end(compress(page));
    });
    const response = await client.get(siteUrl(`/${encoding}`));
    expect(response.body.toString('utf8')).toBe(page);
  });

  it('reports a corrupt or unknown encoding', async () => {
    site.route('/corrupt', (_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(Buffer.from('definitely not gzip'));
    });
    site.route('/zstd', (_req, res) => {
      res.writeHead(200, { 'content-encoding': 'zstd' }).end('xx');
    });
    expect(await failure(client.get(siteUrl('/corrupt')))).toMatchObject({
      kind: 'UNSUPPORTED_CONTENT',
      message: 'could not decode the gzip response body',
    });
    expect(await failure(client.get(siteUrl('/zstd')))).toMatchObject({
      kind: 'UNSUPPORTED_CONTENT',
      message: 'unsupported content-encoding: zstd',
    });
  });
});

describe('limits', () => {
  it('stops an endless body at the cap and closes the connection', async () => {
    let written = 0;
    let closed: Promise<unknown> = Promise.resolve();
    site.route('/huge', (_req, res: ServerResponse) => {
      closed = once(res, 'close');
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 'a');
      const pump = () => {
        while (!res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) break;
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const response = await client.get(siteUrl('/huge'));
    expect(response.truncated).toBe(true);
    expect(response.body.length).toBe(CAP);
    expect(response.body.every((byte) => byte === 'a'.charCodeAt(0))).toBe(true);
    await closed;
    expect(written).toBeGreaterThanOrEqual(CAP);
  });

  it('is not truncated at exactly the cap', async () => {
    site.route('/exact', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(Buffer.alloc(CAP, 'b'));
    });
    const response = await client.get(siteUrl('/exact'));
    expect([response.body.length, response.truncated]).toEqual([CAP, false]);
  });

  it('counts decompressed bytes: a gzip bomb stops at the cap', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(CAP);
    site.route('/bomb', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }).end(bomb);
    });
    const response = await client.get(siteUrl('/bomb'));
    expect([response.body.length, response.truncated]).toEqual([CAP, true]);
  });

  it('times out a body that trickles', async () => {
    const slow = makeClient({ timeoutMs: 600 });
    site.route('/slow', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(timer));
    });
    const error = await failure(slow.get(siteUrl('/slow')));
    expect(error).toMatchObject({
      kind: 'TIMEOUT',
      message: `timed out after 600 ms fetching ${siteUrl('/slow')} (FETCH_TIMEOUT_MS)`,
    });
  });

  it('times out a server that never answers', async () => {
    const slow = makeClient({ timeoutMs: 400 });
    site.route('/hang', () => undefined);
    expect((await failure(slow.get(siteUrl('/hang')))).kind).toBe('TIMEOUT');
  });

  it('stops when the caller cancels', async () => {
    const controller = new AbortController();
    // Cancelled once the request has reached the server (an event, not a sleep).
    site.route('/wait', () => controller.abort());
    const error = await failure(client.get(siteUrl('/wait'), { signal: controller.signal }));
    expect(error).toMatchObject({ kind: 'CANCELLED', message: `fetching ${siteUrl('/wait')} was cancelled` });
  });

  it('reports a refused connection', async () => {
    const error = await failure(client.get(`http://public.test:${closedPort}/`));
    expect(error).toMatchObject({ kind: 'CONNECT', message: `connection refused by public.test:${closedPort}` });
  });

  it('reports a name that does not resolve', async () => {
    expect(await failure(client.get('http://nowhere.test/'))).toMatchObject({
      kind: 'DNS',
      message: 'could not resolve host nowhere.test (ENOTFOUND)',
    });
  });
});

describe('redirects', () => {
  it('follows a chain, relative locations included, and reports every hop', async () => {
    site.route('/r1', redirect('/r2', 301));
    site.route('/r2', redirect('r3', 307));
    site.route('/r3', redirect(siteUrl('/final'), 308));
    site.route('/final', html('<p>done</p>'));
    const response = await client.get(siteUrl('/r1'));
    expect(response.finalUrl).toBe(siteUrl('/final'));
    expect(response.redirects).toEqual([siteUrl('/r2'), siteUrl('/r3'), siteUrl('/final')]);
    expect(response.body.toString()).toBe('<p>done</p>');
  });

  it('stops after FETCH_MAX_REDIRECTS', async () => {
    site.route('/loop', redirect('/loop', 302));
    const error = await failure(client.get(siteUrl('/loop')));
    expect(error).toMatchObject({
      kind: 'TOO_MANY_REDIRECTS',
      message: `stopped after 3 redirects (FETCH_MAX_REDIRECTS); the next one was to ${siteUrl('/loop')}`,
    });
    expect(site.hits).toHaveLength(4);
  });

  it('keeps caller headers on the same origin and drops credentials across origins', async () => {
    site.route('/same', redirect('/landing'));
    site.route('/cross', redirect(siteUrl('/landing', 'www.public.test')));
    site.route('/landing', html('ok'));
    const headers = { authorization: 'Bearer secret', 'x-api-token': 't', 'accept-language': 'fr' };
    await client.get(siteUrl('/same'), { headers });
    await client.get(siteUrl('/cross'), { headers });
    const landings = site.hits.filter((hit) => hit.path === '/landing').map((hit) => hit.headers);
    expect(landings[0]).toMatchObject({ authorization: 'Bearer secret', 'x-api-token': 't' });
    expect(landings[1]?.authorization).toBeUndefined();
    expect(landings[1]?.['x-api-token']).toBeUndefined();
    expect(landings[1]?.['accept-language']).toBe('fr');
    expect(landings[1]?.host).toBe(`www.public.test:${site.port}`);
  });
});

describe('caller headers', () => {
  it.each([
    [{ Host: 'evil.test' }, 'header "Host" cannot be set'],
    [{ 'User-Agent': 'x' }, 'header "User-Agent" cannot be set (set FETCH_USER_AGENT instead)'],
    [{ 'Transfer-Encoding': 'chunked' }, 'header "Transfer-Encoding" cannot be set'],
    [{ 'X-Evil': 'a\r\nHost: b' }, 'header "X-Evil" contains a line break or NUL'],
    [{ 'bad name': 'x' }, 'invalid header name "bad name"'],
  ])('refuses %j', async (headers, message) => {
    expect(await failure(client.get(siteUrl('/'), { headers }))).toMatchObject({ kind: 'INVALID_INPUT', message });
    expect(site.hits).toEqual([]);
  });
});

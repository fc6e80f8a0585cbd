import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { selfSignedCertificate, type StartedService, startService, waitUntil } from '../../testing/src/index.js';
import { buildApp, loadConfig } from '../src/index.js';
import { hashPassword } from '../src/oauth/passwords.js';
import { echoService } from './helpers/echo-service.js';

/**
 * config/nginx/ as shipped, run by Debian's nginx (a child process on a 127.0.0.1 port, with a
 * certificate made here): the generated locations map /sqlite/ to one echo service and /fetch/ to
 * another with OAuth and MCP_PUBLIC_URL set to the https proxy address. Checked: the official SDK
 * client over HTTPS (in a child process that trusts the test CA through NODE_EXTRA_CA_CERTS, as a
 * deployment's client would), HTTP/2 by ALPN, SSE events arriving one by one through the proxy, and
 * the OAuth flow with every metadata URL the public one.
 */

const execFileAsync = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const clientScript = fileURLToPath(new URL('./fixtures/https-client.ts', import.meta.url));
const USER = { username: 'alice', password: 'correct horse battery staple' };
const HEARTBEAT_MS = 300;

let dir: string;
let nginx: ChildProcess;
let nginxLog = '';
let port: number;
let base: string;
let cert: { key: string; cert: string };
let plainSvc: StartedService;
let oauthSvc: StartedService;

function nginxBinary(): string {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error("nginx is not installed: these tests need Debian's nginx (apt-get install -y nginx)");
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port: free } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return free;
}

/** The shipped files, with only what differs on a test machine replaced: listen address, paths, upstreams. */
function writeNginxConfig(upstreams: Record<string, number>): string {
  const conf = join(dir, 'conf');
  mkdirSync(join(conf, 'mcp-sse'), { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(conf, 'tls.crt'), cert.cert);
  writeFileSync(join(conf, 'tls.key'), cert.key, { mode: 0o600 });
  const shipped = (name: string) => readFileSync(join(repo, 'config/nginx', name), 'utf8');
  const server = shipped('mcp-sse.conf')
    .replace(/listen 443 ssl http2;/, `listen 127.0.0.1:${port} ssl http2;`)
    .replace(/\n\s*listen \[::\]:443 ssl http2;/, '')
    .replace('/etc/nginx/certs/tls.crt', join(conf, 'tls.crt'))
    .replace('/etc/nginx/certs/tls.key', join(conf, 'tls.key'));
  let locations = shipped('locations.conf');
  for (const [container, upstream] of Object.entries(upstreams)) {
    locations = locations.replace(new RegExp(`${container}:\\d+`, 'g'), `127.0.0.1:${upstream}`);
  }
  // Stricter than production: the services' own X-Accel-Buffering header is ignored, so that only
  // the configuration's proxy_buffering off can make the stream arrive event by event.
  const proxy = `${shipped('proxy.conf')}\nproxy_ignore_headers X-Accel-Buffering;\n`;
  writeFileSync(join(conf, 'mcp-sse', 'locations.conf'), locations);
  writeFileSync(join(conf, 'mcp-sse', 'proxy.conf'), proxy);
  writeFileSync(join(conf, 'mcp-sse.conf'), server);
  const runAs = process.getuid?.() === 0 ? 'user root;\n' : '';
  const temp = (name: string) => join(dir, name);
  writeFileSync(
    join(conf, 'nginx.conf'),
    `${runAs}worker_processes 1;
pid ${temp('nginx.pid')};
error_log stderr notice;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path ${temp('client_body')};
    proxy_temp_path ${temp('proxy')};
    fastcgi_temp_path ${temp('fastcgi')};
    uwsgi_temp_path ${temp('uwsgi')};
    scgi_temp_path ${temp('scgi')};
    include mcp-sse.conf;
}
`,
  );
  return join(conf, 'nginx.conf');
}

async function runClient(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', clientScript, ...args], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'conf', 'tls.crt') },
    cwd: join(repo, 'packages/core'),
    timeout: 80_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

beforeAll(async () => {
  const binary = nginxBinary();
  dir = mkdtempSync(join(tmpdir(), 'mcp-nginx-'));
  cert = selfSignedCertificate('127.0.0.1', 'localhost');
  port = await freePort();
  base = `https://127.0.0.1:${port}`;
  // Behind nginx: MCP_TRUST_PROXY=true so that the service believes X-Forwarded-Prefix.
  plainSvc = await startService(echoService, {
    env: { MCP_SSE_HEARTBEAT_MS: String(HEARTBEAT_MS), MCP_TRUST_PROXY: 'true' },
  });
  const oauthPort = await freePort();
  const config = loadConfig(echoService.config, {
    HOST: '127.0.0.1',
    PORT: String(oauthPort),
    LOG_LEVEL: 'silent',
    MCP_AUTH: 'oauth',
    MCP_OAUTH_USERS: `alice:${await hashPassword(USER.password)}`,
    MCP_OAUTH_DB: join(dir, `oauth-${randomBytes(4).toString('hex')}.db`),
    MCP_RATE_LIMIT: '0',
    MCP_PUBLIC_URL: `${base}/fetch`,
  });
  const app = await buildApp(echoService, { config, logger: pino({ level: 'silent' }), defaultMetrics: false });
  await app.listen({ port: oauthPort, host: '127.0.0.1' });
  oauthSvc = { url: `http://127.0.0.1:${oauthPort}`, port: oauthPort, app, close: () => app.close() };

  // postgres: a port nobody listens on, as a service that is not deployed.
  const conf = writeNginxConfig({
    'mcp-sqlite': plainSvc.port,
    'mcp-fetch': oauthPort,
    'mcp-postgres': await freePort(),
  });
  execFileSync(binary, ['-t', '-p', dir, '-c', conf], { stdio: 'pipe' });
  nginx = spawn(binary, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  nginx.stderr?.on('data', (chunk: Buffer) => (nginxLog += chunk.toString()));
  await waitUntil(
    async () => {
      if (nginx.exitCode !== null) throw new Error(`nginx exited: ${nginxLog}`);
      return new Promise<boolean>((resolve) => {
        const socket = tlsConnect({ host: '127.0.0.1', port, ca: cert.cert }, () => {
          socket.end();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
    },
    'nginx to accept TLS connections',
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}, 60_000);

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((resolve) => nginx.once('exit', resolve));
    nginx.kill('SIGQUIT');
    await exited;
  }
  await plainSvc?.close();
  await oauthSvc?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('nginx in front of the services (config/nginx/)', () => {
  it('negotiates HTTP/2 by ALPN, and HTTP/1.1 for a client that only speaks that', async () => {
    const alpn = (protocols: string[]) =>
      new Promise<string | false>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port, ca: cert.cert, ALPNProtocols: protocols }, () => {
          resolve(socket.alpnProtocol ?? false);
          socket.end();
        });
        socket.on('error', reject);
      });
    expect(await alpn(['h2', 'http/1.1'])).toBe('h2');
    expect(await alpn(['http/1.1'])).toBe('http/1.1');
  });

  it('serves each service under its prefix, keeps /metrics internal, and sends HSTS', async () => {
    const session = http2Connect(base, { ca: cert.cert });
    const get = (path: string) =>
      new Promise<{ status: number; hsts: string | undefined; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': path });
        let status = 0;
        let hsts: string | undefined;
        let body = '';
        stream.on('response', (headers) => {
          status = Number(headers[':status']);
          hsts = headers['strict-transport-security'];
        });
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (body += chunk));
        stream.on('end', () => resolve({ status, hsts, body }));
        stream.on('error', reject);
      });
    try {
      const health = await get('/sqlite/health');
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ status: 'healthy' });
      expect(health.hsts).toBe('max-age=31536000');
      expect((await get('/sqlite/metrics')).status).toBe(404);
      expect((await get('/postgres/health')).status).toBe(502);
    } finally {
      session.close();
    }
  });

  it('delivers SSE events one by one over HTTP/2 (not buffered)', async () => {
    const session = http2Connect(base, { ca: cert.cert });
    try {
      const stream = session.request({ ':path': '/sqlite/sse', accept: 'text/event-stream' });
      const arrivals: { at: number; text: string }[] = [];
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => arrivals.push({ at: performance.now(), text: chunk }));
      await waitUntil(() => arrivals.filter((a) => a.text.includes(': keepalive')).length >= 3, 'three heartbeats', {
        timeoutMs: 10_000,
      });
      stream.close();
      const text = arrivals.map((a) => a.text).join('');
      // The endpoint the client must POST to carries the proxy's prefix.
      expect(text).toMatch(/event: endpoint\ndata: \/sqlite\/messages\?sessionId=[0-9a-f-]{36}\n/);
      const beats = arrivals.filter((a) => a.text.includes(': keepalive')).map((a) => a.at);
      // Each heartbeat arrives on its own, about HEARTBEAT_MS after the previous one.
      for (let i = 1; i < beats.length; i += 1) {
        expect(beats[i]! - beats[i - 1]!).toBeGreaterThan(HEARTBEAT_MS / 2);
      }
    } finally {
      session.close();
    }
  });

  it('carries the official SDK client over HTTPS, on /mcp and /sse', async () => {
    expect(await runClient(['plain', `${base}/sqlite`])).toEqual({
      mcp: { message: 'over /mcp' },
      sse: { message: 'over /sse' },
    });
  }, 90_000);

  it('runs the OAuth flow with the public https URL in every metadata document', async () => {
    const out = await runClient(['oauth', `${base}/fetch`, USER.username, USER.password]);
    for (const kind of ['streamable-http', 'sse']) {
      expect(out[kind]).toEqual({
        authorizationUrl: `${base}/fetch/authorize`,
        // The resource of the endpoint the client asked for (RFC 9728 path-suffixed metadata).
        resource: `${base}/fetch/${kind === 'sse' ? 'sse' : 'mcp'}`,
        scope: 'read write',
        result: { message: `oauth over ${kind}` },
      });
    }
    expect(out['wwwAuthenticate']).toBe(
      `Bearer realm="mcp-echo", resource_metadata="${base}/.well-known/oauth-protected-resource/fetch/mcp"`,
    );
    expect(out['protectedResource']).toEqual({
      resource: `${base}/fetch/mcp`,
      authorization_servers: [`${base}/fetch`],
      scopes_supported: ['read', 'write'],
      bearer_methods_supported: ['header'],
      resource_name: `MCP server at ${base}/fetch`,
    });
    expect(out['authorizationServer']).toMatchObject({
      issuer: `${base}/fetch`,
      authorization_endpoint: `${base}/fetch/authorize`,
      token_endpoint: `${base}/fetch/token`,
      registration_endpoint: `${base}/fetch/register`,
      revocation_endpoint: `${base}/fetch/revoke`,
    });
  }, 90_000);
});

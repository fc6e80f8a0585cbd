import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  connectClient,
  httpRequest,
  INITIALIZE_BODY,
  MCP_POST_HEADERS,
  openSseStream,
  rpc,
  type StartedService,
  startService,
} from '../../testing/src/index.js';
import { echoService } from './helpers/echo-service.js';

const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });

describe('Host and Origin validation (DNS rebinding)', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService, {
      env: { MCP_ALLOWED_HOSTS: 'gateway.internal', MCP_ALLOWED_ORIGINS: 'https://chat.example.org' },
    });
  });
  afterAll(async () => svc.close());

  const post = (path: string, headers: Record<string, string>) =>
    httpRequest(`${svc.url}${path}`, {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, ...headers },
      body: JSON.stringify(INITIALIZE_BODY),
    });

  it.each(['/mcp', '/rpc', '/messages?sessionId=x'])('refuses a foreign Host on %s with 403', async (path) => {
    const res = await post(path, { host: 'evil.example.com' });
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ error: { message: 'Forbidden: Host header not allowed' } });
  });

  it('refuses a foreign Host on the SSE stream with 403', async () => {
    const res = await httpRequest(`${svc.url}/sse`, { headers: { host: `evil.example.com:${svc.port}` } });
    expect(res.status).toBe(403);
  });

  it.each(['/mcp', '/rpc'])('refuses a foreign Origin on %s with 403', async (path) => {
    const res = await post(path, { origin: 'http://evil.example.com' });
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ error: { message: 'Forbidden: Origin not allowed' } });
  });

  it('accepts loopback, the container name and configured hosts and origins', async () => {
    for (const host of [
      `localhost:${svc.port}`,
      `127.0.0.1:${svc.port}`,
      `[::1]:${svc.port}`,
      'mcp-echo:8006',
      'gateway.internal',
    ]) {
      const res = await httpRequest(`${svc.url}/rpc`, {
        method: 'POST',
        headers: { host, 'content-type': 'application/json' },
        body: ping,
      });
      expect(res.status, host).toBe(200);
    }
    for (const origin of ['https://chat.example.org', `http://localhost:${svc.port}`]) {
      const res = await httpRequest(`${svc.url}/rpc`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: ping,
      });
      expect(res.status, origin).toBe(200);
    }
  });

  it('keeps /health and /metrics open to probes', async () => {
    const health = await httpRequest(`${svc.url}/health`, { headers: { host: 'evil.example.com' } });
    expect(health.status).toBe(200);
  });
});

describe('API keys (MCP_API_KEYS)', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { MCP_API_KEYS: 'alpha-key-1,beta-key-2' } });
  });
  afterAll(async () => svc.close());

  it('refuses a request without a key (401 with WWW-Authenticate)', async () => {
    const res = await rpc(svc.url, 'tools/list');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="mcp-echo"');
    expect(res.body).toMatchObject({ error: { message: expect.stringContaining('send an API key') as string } });
  });

  it('treats a bare "Bearer" (Open WebUI with an empty key) as no key, not a crash', async () => {
    const res = await rpc(svc.url, 'tools/list', undefined, { headers: { authorization: 'Bearer ' } });
    expect(res.status).toBe(401);
  });

  it('refuses a wrong key (401)', async () => {
    const res = await rpc(svc.url, 'tools/list', undefined, { headers: { authorization: 'Bearer wrong' } });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { message: 'Unauthorized: invalid API key' } });
  });

  it('accepts a bearer key and an X-API-Key header', async () => {
    expect((await rpc(svc.url, 'ping', undefined, { headers: { authorization: 'Bearer alpha-key-1' } })).status).toBe(
      200,
    );
    expect((await rpc(svc.url, 'ping', undefined, { headers: { 'x-api-key': 'beta-key-2' } })).status).toBe(200);
  });

  it.each(['sse', 'streamable-http'] as const)(
    'lets the SDK client in with a key over %s, and not without',
    async (kind) => {
      await expect(connectClient(svc.url, kind)).rejects.toThrow();
      const client = await connectClient(svc.url, kind, { headers: { authorization: 'Bearer alpha-key-1' } });
      const result = await client.callTool({ name: 'echo', arguments: { message: 'authed' } });
      expect(result.structuredContent).toEqual({ message: 'authed' });
      await client.close();
    },
  );

  it('binds a session to the key that opened it', async () => {
    const init = await httpRequest(`${svc.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, authorization: 'Bearer alpha-key-1' },
      body: JSON.stringify(INITIALIZE_BODY),
    });
    const sid = init.headers['mcp-session-id'] as string;
    const other = await httpRequest(`${svc.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, authorization: 'Bearer beta-key-2', 'mcp-session-id': sid },
      body: ping,
    });
    expect(other.status).toBe(404);
    const same = await httpRequest(`${svc.url}/mcp`, {
      method: 'POST',
      headers: {
        ...MCP_POST_HEADERS,
        authorization: 'Bearer alpha-key-1',
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
      body: ping,
    });
    expect(same.status).toBe(200);
  });

  it('binds a legacy SSE session to its key', async () => {
    const stream = await openSseStream(`${svc.url}/sse`, { 'x-api-key': 'alpha-key-1' });
    try {
      const post = (key: string) =>
        httpRequest(`${svc.url}/messages?sessionId=${stream.sessionId}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': key },
          body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }),
        });
      expect((await post('beta-key-2')).status).toBe(404);
      expect((await post('alpha-key-1')).status).toBe(202);
      await stream.waitFor(/"id":7/);
    } finally {
      stream.close();
    }
  });

  it('never logs or reports the key', async () => {
    const health = await httpRequest(`${svc.url}/health`);
    expect(health.text).not.toContain('alpha-key-1');
    const metrics = await httpRequest(`${svc.url}/metrics`);
    expect(metrics.text).not.toContain('alpha-key-1');
  });
});

describe('body size limit (MCP_BODY_LIMIT)', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { MCP_BODY_LIMIT: '2048' } });
  });
  afterAll(async () => svc.close());

  it.each(['/rpc', '/mcp', '/messages?sessionId=x'])('answers an oversized body on %s with 413', async (path) => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'x'.repeat(5000) } },
    });
    const res = await httpRequest(`${svc.url}${path}`, { method: 'POST', headers: MCP_POST_HEADERS, body: big });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ error: { message: expect.stringContaining('MCP_BODY_LIMIT') as string } });
  });
});

describe('during shutdown', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService);
  });
  afterAll(async () => {
    svc.app.mcp.closing = false;
    await svc.close();
  });

  it('answers every MCP request with the JSON-RPC 503 every other refusal uses, and /health with unhealthy', async () => {
    // What the preClose hook does first when SIGTERM arrives.
    svc.app.mcp.closing = true;
    const expected = {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32018, message: 'Server is shutting down' },
    };
    for (const res of [
      await httpRequest(`${svc.url}/rpc`, { method: 'POST', headers: MCP_POST_HEADERS, body: ping }),
      await httpRequest(`${svc.url}/mcp`, {
        method: 'POST',
        headers: MCP_POST_HEADERS,
        body: JSON.stringify(INITIALIZE_BODY),
      }),
      await httpRequest(`${svc.url}/sse`),
    ]) {
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json).toEqual(expected);
    }
    const health = await httpRequest(`${svc.url}/health`);
    expect(health.status).toBe(503);
    expect(health.json).toMatchObject({ status: 'unhealthy' });
  });
});

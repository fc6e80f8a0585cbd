import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  connectClient,
  httpRequest,
  INITIALIZE_BODY,
  MCP_POST_HEADERS,
  type StartedService,
  startService,
} from '../../testing/src/index.js';
import { echoService } from './helpers/echo-service.js';

const body = (value: unknown) => JSON.stringify(value);

async function initialize(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await httpRequest(`${url}/mcp`, {
    method: 'POST',
    headers: { ...MCP_POST_HEADERS, ...headers },
    body: body(INITIALIZE_BODY),
  });
  expect(res.status).toBe(200);
  const id = res.headers['mcp-session-id'];
  expect(typeof id).toBe('string');
  return id as string;
}

describe('Streamable HTTP (/mcp), stateful', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService);
  });
  afterAll(async () => svc.close());

  it('creates a session on initialize and answers on it', async () => {
    const sid = await initialize(svc.url);
    const headers = { ...MCP_POST_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    const list = await httpRequest(`${svc.url}/mcp`, {
      method: 'POST',
      headers,
      body: body({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(list.status).toBe(200);
    expect(list.text).toContain('"echo"');
  });

  it('refuses a non-initialize request without a session id (400)', async () => {
    const res = await httpRequest(`${svc.url}/mcp`, {
      method: 'POST',
      headers: MCP_POST_HEADERS,
      body: body({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
  });

  it('answers an unknown session id with 404 on POST, GET and DELETE', async () => {
    for (const method of ['POST', 'GET', 'DELETE']) {
      const res = await httpRequest(`${svc.url}/mcp`, {
        method,
        headers: { ...MCP_POST_HEADERS, 'mcp-session-id': 'no-such-session' },
        ...(method === 'POST' ? { body: body({ jsonrpc: '2.0', id: 1, method: 'ping' }) } : {}),
      });
      expect(res.status, method).toBe(404);
      expect(res.json).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32005, message: 'Session not found' } });
    }
  });

  it('requires the session id on GET and DELETE (400)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await httpRequest(`${svc.url}/mcp`, { method, headers: { accept: 'text/event-stream' } });
      expect(res.status, method).toBe(400);
    }
  });

  it('ends a session on DELETE; the id is then unknown (404)', async () => {
    const sid = await initialize(svc.url);
    const del = await httpRequest(`${svc.url}/mcp`, {
      method: 'DELETE',
      headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(del.status).toBe(200);
    expect(svc.app.mcp.sessions.get(sid)).toBeUndefined();
    const after = await httpRequest(`${svc.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, 'mcp-session-id': sid },
      body: body({ jsonrpc: '2.0', id: 3, method: 'ping' }),
    });
    expect(after.status).toBe(404);
  });

  it('refuses an unsupported MCP-Protocol-Version (400)', async () => {
    const sid = await initialize(svc.url);
    const res = await httpRequest(`${svc.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '1999-01-01' },
      body: body({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Unsupported protocol version');
  });

  it('refuses a POST that does not accept both JSON and SSE (406)', async () => {
    const res = await httpRequest(`${svc.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: body(INITIALIZE_BODY),
    });
    expect(res.status).toBe(406);
  });

  it('refuses a GET stream that does not accept text/event-stream (406)', async () => {
    const sid = await initialize(svc.url);
    const res = await httpRequest(`${svc.url}/mcp`, {
      method: 'GET',
      headers: { accept: 'application/json', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(res.status).toBe(406);
  });

  it('opens a GET stream with keepalive-friendly headers', async () => {
    const sid = await initialize(svc.url);
    const res = await httpRequest(`${svc.url}/mcp`, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
      readMs: 150,
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    expect(res.headers['x-accel-buffering']).toBe('no');
  });

  it('answers malformed JSON with a JSON-RPC parse error (400, -32700)', async () => {
    const res = await httpRequest(`${svc.url}/mcp`, { method: 'POST', headers: MCP_POST_HEADERS, body: '{"jsonrpc":' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
  });

  it('answers a JSON body that is not JSON-RPC with 400', async () => {
    const sid = await initialize(svc.url);
    const res = await httpRequest(`${svc.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
      body: body({ hello: 'world' }),
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ jsonrpc: '2.0', error: {} });
  });
});

describe('Streamable HTTP (/mcp), stateless (MCP_STATELESS=true)', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { MCP_STATELESS: 'true' } });
  });
  afterAll(async () => svc.close());

  it('serves the SDK client without sessions', async () => {
    const client = await connectClient(svc.url, 'streamable-http');
    const result = await client.callTool({ name: 'echo', arguments: { message: 'stateless' } });
    expect(result.structuredContent).toEqual({ message: 'stateless' });
    expect(svc.app.mcp.sessions.size).toBe(0);
    await client.close();
  });

  it('answers GET and DELETE with 405 and Allow: POST', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await httpRequest(`${svc.url}/mcp`, { method, headers: { accept: 'text/event-stream' } });
      expect(res.status, method).toBe(405);
      expect(res.headers['allow']).toBe('POST');
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { httpRequest, rpc, type StartedService, startService } from '../../testing/src/index.js';
import { echoService } from './helpers/echo-service.js';

describe('plain JSON-RPC (/rpc) and the original plan endpoints', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService);
  });
  afterAll(async () => svc.close());

  it('lists tools', async () => {
    const res = await rpc(svc.url, 'tools/list');
    expect(res.status).toBe(200);
    const body = res.body as { id: number; result: { tools: Array<{ name: string }> } };
    expect(body.id).toBe(1);
    expect(body.result.tools.map((t) => t.name)).toEqual(['echo', 'slow', 'fail', 'write_thing']);
  });

  it('calls a tool and answers ping', async () => {
    const call = await rpc(svc.url, 'tools/call', { name: 'echo', arguments: { message: 'curl' } }, { id: 'abc' });
    expect(call.body).toEqual({
      jsonrpc: '2.0',
      id: 'abc',
      result: { content: [{ type: 'text', text: '{"message":"curl"}' }], structuredContent: { message: 'curl' } },
    });
    expect((await rpc(svc.url, 'ping')).body).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
  });

  it('answers initialize statelessly', async () => {
    const res = await rpc(svc.url, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'x', version: '1' },
    });
    expect(res.body).toMatchObject({
      result: { protocolVersion: '2025-06-18', serverInfo: { name: 'mcp-echo', version: '1.2.3' } },
    });
  });

  it('answers an unknown tool with -32602 and an unknown method with -32601', async () => {
    expect((await rpc(svc.url, 'tools/call', { name: 'nope' })).body).toMatchObject({
      error: { code: -32602, message: 'Unknown tool: nope' },
    });
    expect((await rpc(svc.url, 'resources/list')).body).toMatchObject({ error: { code: -32601 } });
    expect((await rpc(svc.url, 'tools/call', { arguments: {} })).body).toMatchObject({ error: { code: -32602 } });
  });

  it('returns invalid arguments as an isError result', async () => {
    const res = await rpc(svc.url, 'tools/call', { name: 'echo', arguments: { message: ['x'] } });
    expect(res.body).toMatchObject({ result: { isError: true } });
  });

  it('handles batches and notifications', async () => {
    const res = await httpRequest(`${svc.url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'b' } } },
      ]),
    });
    expect(res.status).toBe(200);
    expect((res.json as Array<{ id: number }>).map((r) => r.id)).toEqual([1, 2]);
    const note = await httpRequest(`${svc.url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    expect(note.status).toBe(202);
    expect(note.text).toBe('');
  });

  it('refuses malformed JSON (-32700) and non-JSON-RPC bodies (-32600)', async () => {
    const bad = await httpRequest(`${svc.url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: -32700 } });
    const notRpc = await httpRequest(`${svc.url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"method":"ping"}',
    });
    expect(notRpc.status).toBe(400);
    expect(notRpc.json).toMatchObject({ error: { code: -32600 } });
    const empty = await httpRequest(`${svc.url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[]',
    });
    expect(empty.status).toBe(400);
  });

  it('refuses a non-JSON content type', async () => {
    const res = await httpRequest(`${svc.url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'ping',
    });
    expect(res.status).toBe(415);
    expect(res.json).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32015, message: 'Unsupported Media Type: send Content-Type: application/json' },
    });
  });

  it('serves /mcp/v1/initialize, /mcp/v1/tools/list and /mcp/v1/tools/call with bare params or envelopes', async () => {
    const init = await httpRequest(`${svc.url}/mcp/v1/initialize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(init.json).toMatchObject({ result: { serverInfo: { name: 'mcp-echo' } } });
    const list = await httpRequest(`${svc.url}/mcp/v1/tools/list`, { method: 'POST' });
    expect((list.json as { result: { tools: unknown[] } }).result.tools).toHaveLength(4);
    const call = await httpRequest(`${svc.url}/mcp/v1/tools/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'echo', arguments: { message: 'legacy' } }),
    });
    expect(call.json).toMatchObject({ result: { structuredContent: { message: 'legacy' } } });
    const envelope = await rpc(
      svc.url,
      'tools/call',
      { name: 'echo', arguments: { message: 'env' } },
      { path: '/mcp/v1/tools/call' },
    );
    expect(envelope.body).toMatchObject({ result: { structuredContent: { message: 'env' } } });
    const wrong = await rpc(svc.url, 'tools/list', {}, { path: '/mcp/v1/tools/call' });
    expect(wrong.status).toBe(400);
  });

  it("echoes the caller's X-Request-Id, or makes one", async () => {
    const given = await rpc(svc.url, 'ping', undefined, { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await rpc(svc.url, 'ping');
    expect(made.headers.get('x-request-id')).toMatch(/.+/);
  });

  it('answers unknown paths with a JSON 404', async () => {
    const res = await httpRequest(`${svc.url}/nope`);
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ error: { message: 'Not found: GET /nope' } });
  });
});

describe('rate limiting (MCP_RATE_LIMIT)', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { MCP_RATE_LIMIT: '3', MCP_API_KEYS: 'k1,k2' } });
  });
  afterAll(async () => svc.close());

  it('limits tool calls per identity and leaves other identities alone', async () => {
    const call = (key: string) =>
      rpc(
        svc.url,
        'tools/call',
        { name: 'echo', arguments: { message: 'x' } },
        { headers: { authorization: `Bearer ${key}` } },
      );
    for (let i = 0; i < 3; i += 1) expect((await call('k1')).status).toBe(200);
    const limited = await call('k1');
    expect(limited.status).toBe(429);
    // 3 calls a minute: one more in 20 s, and the header says what the text says.
    expect(limited.headers.get('retry-after')).toBe('20');
    expect(limited.body).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: {
        isError: true,
        content: [{ type: 'text', text: 'Rate limit exceeded: too many tool calls; retry in 20 s' }],
      },
    });
    expect((await call('k2')).status).toBe(200);
    // tools/list is not a tool call and is not limited.
    expect((await rpc(svc.url, 'tools/list', undefined, { headers: { authorization: 'Bearer k1' } })).status).toBe(200);
  });
});

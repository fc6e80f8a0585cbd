import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { httpRequest, openSseStream, type StartedService, startService, waitUntil } from '../../testing/src/index.js';
import { echoService } from './helpers/echo-service.js';

describe('legacy HTTP+SSE (/sse + /messages)', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { MCP_SSE_HEARTBEAT_MS: '100' } });
  });
  afterAll(async () => svc.close());

  it('announces the message endpoint, disables proxy buffering and sends keepalive comments', async () => {
    const res = await httpRequest(`${svc.url}/sse`, { headers: { accept: 'text/event-stream' }, readMs: 350 });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.headers['cache-control']).toContain('no-cache');
    expect(res.text).toMatch(/^event: endpoint\ndata: \/messages\?sessionId=[0-9a-f-]{36}\n\n/);
    expect(res.text.match(/^: keepalive$/gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });

  it('serves the original plan stream name /mcp/v1/sse', async () => {
    const res = await httpRequest(`${svc.url}/mcp/v1/sse`, { readMs: 100 });
    expect(res.status).toBe(200);
    expect(res.text).toContain('event: endpoint');
  });

  it('removes the session when the stream closes', async () => {
    await httpRequest(`${svc.url}/sse`, { readMs: 50 });
    await waitUntil(() => svc.app.mcp.sessions.size === 0, 'the closed stream removes its session');
  });

  it('aborts a running call when the client disconnects', async () => {
    const stream = await openSseStream(`${svc.url}/sse`);
    const post = (message: unknown) =>
      httpRequest(`${svc.url}/messages?sessionId=${stream.sessionId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message),
      });
    await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    await stream.waitFor(/"id":1/);
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(
      (
        await post({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'slow', arguments: { ms: 3000, tag: 'disconnect' } },
        })
      ).status,
    ).toBe(202);
    await waitUntil(() => svc.app.mcp.registry.pending === 1, 'the call runs');
    stream.close();
    const deps = svc.app.mcp.deps as { aborted: string[]; finished: string[] };
    await waitUntil(() => deps.aborted.includes('disconnect'), 'the disconnect aborts the call');
    expect(deps.aborted).toContain('disconnect');
    expect(deps.finished).not.toContain('disconnect');
  });

  // Found by json-rpc.fuzz.test.ts: the SDK transport answered these with a plain-text 400
  // ("Invalid message: [object Object]"), unlike every other endpoint.
  it.each([
    ['not a JSON-RPC message', { hello: 'world' }],
    ['a response with both result and error', { jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'x' } }],
    ['a batch (the legacy transport takes none)', [{ jsonrpc: '2.0', id: 1, method: 'ping' }]],
    ['a float id', { jsonrpc: '2.0', id: 1.5, method: 'ping' }],
  ])('answers %s on /messages with a JSON-RPC 400, on both paths', async (_label, message) => {
    const stream = await openSseStream(`${svc.url}/sse`);
    try {
      const url = `${svc.url}/messages?sessionId=${stream.sessionId}`;
      const body = JSON.stringify(message);
      const expected = {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'Invalid Request: the body must be one JSON-RPC 2.0 message' },
      };
      // fetch sends a Content-Length (the fast lane); node:http's write-then-end is chunked (fastify).
      const lane = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(lane.status).toBe(400);
      expect(await lane.json()).toEqual(expected);
      const chunked = await httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(chunked.status).toBe(400);
      expect(chunked.json).toEqual(expected);
    } finally {
      stream.close();
    }
  });

  it('answers an unknown or missing sessionId with 404 / 400', async () => {
    const unknown = await httpRequest(`${svc.url}/messages?sessionId=nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(unknown.status).toBe(404);
    const missing = await httpRequest(`${svc.url}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(missing.status).toBe(400);
  });
});

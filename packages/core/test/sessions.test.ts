import { afterEach, describe, expect, it } from 'vitest';

import {
  connectClient,
  httpRequest,
  INITIALIZE_BODY,
  MCP_POST_HEADERS,
  openSseStream,
  type StartedService,
  startService,
} from '../../testing/src/index.js';
import { echoService } from './helpers/echo-service.js';

const init = (url: string) =>
  httpRequest(`${url}/mcp`, { method: 'POST', headers: MCP_POST_HEADERS, body: JSON.stringify(INITIALIZE_BODY) });

describe('session limits', () => {
  let svc: StartedService | undefined;
  afterEach(async () => svc?.close());

  it('caps sessions (MCP_MAX_SESSIONS) across both transports with 503', async () => {
    svc = await startService(echoService, { env: { MCP_MAX_SESSIONS: '2' } });
    expect((await init(svc.url)).status).toBe(200);
    const stream = await openSseStream(`${svc.url}/sse`);
    try {
      const third = await init(svc.url);
      expect(third.status).toBe(503);
      expect(third.headers['retry-after']).toBe('5');
      expect(third.json).toMatchObject({ error: { message: 'Too many sessions (MCP_MAX_SESSIONS)' } });
      const sse = await httpRequest(`${svc.url}/sse`);
      expect(sse.status).toBe(503);
    } finally {
      stream.close();
    }
  });

  it('expires idle Streamable HTTP sessions and frees their place', async () => {
    svc = await startService(echoService, { env: { MCP_MAX_SESSIONS: '1', MCP_SESSION_IDLE_MS: '1000' } });
    const first = await init(svc.url);
    const sid = first.headers['mcp-session-id'] as string;
    expect(svc.app.mcp.sessions.get(sid)).toBeDefined();
    await new Promise((r) => setTimeout(r, 1200));
    // The table is full, so opening a new session evicts the idle one first.
    expect((await init(svc.url)).status).toBe(200);
    expect(svc.app.mcp.sessions.get(sid)).toBeUndefined();
    const stale = await httpRequest(`${svc.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, 'mcp-session-id': sid },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    });
    expect(stale.status).toBe(404);
  });

  it('does not expire a session while its stream is open', async () => {
    svc = await startService(echoService, { env: { MCP_MAX_SESSIONS: '1', MCP_SESSION_IDLE_MS: '1000' } });
    const client = await connectClient(svc.url, 'sse');
    await new Promise((r) => setTimeout(r, 1300));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'still here' } });
    expect(result.structuredContent).toEqual({ message: 'still here' });
    await client.close();
  });

  it('LiteLLM pattern: a session per call, each closed by DELETE, leaves nothing behind', async () => {
    svc = await startService(echoService);
    for (let i = 0; i < 5; i += 1) {
      const client = await connectClient(svc.url, 'streamable-http');
      await client.callTool({ name: 'echo', arguments: { message: String(i) } });
      const transport = client.transport as { terminateSession?: () => Promise<void> };
      await transport.terminateSession?.();
      await client.close();
    }
    expect(svc.app.mcp.sessions.size).toBe(0);
  });
});

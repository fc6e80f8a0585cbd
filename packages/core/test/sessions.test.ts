import { afterEach, describe, expect, it, vi } from 'vitest';

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

  it('caps sessions (MCP_MAX_SESSIONS) with 503 once every session is busy', async () => {
    svc = await startService(echoService, { env: { MCP_MAX_SESSIONS: '2' } });
    const streams = [await openSseStream(`${svc.url}/sse`), await openSseStream(`${svc.url}/sse`)];
    try {
      const third = await init(svc.url);
      expect(third.status).toBe(503);
      expect(third.headers['retry-after']).toBe('5');
      expect(third.json).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32016, message: 'Too many sessions (MCP_MAX_SESSIONS): retry later' },
      });
      expect((await httpRequest(`${svc.url}/sse`)).status).toBe(503);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it('makes room by closing idle sessions of whoever holds the most, never busy ones', async () => {
    svc = await startService(echoService, { env: { MCP_MAX_SESSIONS: '3', MCP_API_KEYS: 'heavy,light' } });
    const as = (key: string) => ({ ...MCP_POST_HEADERS, authorization: `Bearer ${key}` });
    const open = async (key: string) => {
      const res = await httpRequest(`${svc!.url}/mcp`, {
        method: 'POST',
        headers: as(key),
        body: JSON.stringify(INITIALIZE_BODY),
      });
      expect(res.status).toBe(200);
      return res.headers['mcp-session-id'] as string;
    };
    const lightSession = await open('light');
    const heavy = [await open('heavy'), await open('heavy')];
    // Full: the next session takes the place of the heavy identity's oldest idle one.
    await open('light');
    expect(svc.app.mcp.sessions.get(heavy[0]!)).toBeUndefined();
    expect(svc.app.mcp.sessions.get(heavy[1]!)).toBeDefined();
    expect(svc.app.mcp.sessions.get(lightSession)).toBeDefined();
  });

  it('expires idle Streamable HTTP sessions and frees their place', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      svc = await startService(echoService, { env: { MCP_MAX_SESSIONS: '1', MCP_SESSION_IDLE_MS: '1000' } });
      const first = await init(svc.url);
      const sid = first.headers['mcp-session-id'] as string;
      expect(svc.app.mcp.sessions.get(sid)).toBeDefined();
      vi.setSystemTime(Date.now() + 1200);
      // The table is full, so opening a new session evicts the idle one first.
      expect((await init(svc.url)).status).toBe(200);
      expect(svc.app.mcp.sessions.get(sid)).toBeUndefined();
      const stale = await httpRequest(`${svc.url}/mcp`, {
        method: 'POST',
        headers: { ...MCP_POST_HEADERS, 'mcp-session-id': sid },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
      });
      expect(stale.status).toBe(404);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not expire a session while its stream is open', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      svc = await startService(echoService, { env: { MCP_MAX_SESSIONS: '1', MCP_SESSION_IDLE_MS: '1000' } });
      const client = await connectClient(svc.url, 'sse');
      vi.setSystemTime(Date.now() + 60_000);
      // Full, and the only session is busy (its stream is open): no room, and it lives on.
      expect((await init(svc.url)).status).toBe(503);
      const result = await client.callTool({ name: 'echo', arguments: { message: 'still here' } });
      expect(result.structuredContent).toEqual({ message: 'still here' });
      await client.close();
    } finally {
      vi.useRealTimers();
    }
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

describe('one identity cannot lock the others out (MCP_MAX_SESSIONS_PER_IDENTITY, MCP_SESSION_RATE_LIMIT)', () => {
  let svc: StartedService | undefined;
  afterEach(async () => svc?.close());
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const initAs = (url: string, key: string) =>
    httpRequest(`${url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, ...as(key) },
      body: JSON.stringify(INITIALIZE_BODY),
    });

  it("recycles a flooding identity's own idle sessions, so that it holds at most its share", async () => {
    svc = await startService(echoService, {
      env: { MCP_API_KEYS: 'flood,other', MCP_MAX_SESSIONS: '20', MCP_MAX_SESSIONS_PER_IDENTITY: '5' },
    });
    const statuses = [];
    for (let i = 0; i < 60; i += 1) statuses.push((await initAs(svc.url, 'flood')).status);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(svc.app.mcp.sessions.size).toBe(5);
    expect((await initAs(svc.url, 'other')).status).toBe(200);
    expect(svc.app.mcp.sessions.size).toBe(6);
  });

  it('refuses an identity whose sessions are all busy with 429 and Retry-After, and serves the others', async () => {
    svc = await startService(echoService, {
      env: { MCP_API_KEYS: 'flood,other', MCP_MAX_SESSIONS: '10', MCP_MAX_SESSIONS_PER_IDENTITY: '3' },
    });
    const streams = [];
    try {
      for (let i = 0; i < 3; i += 1) streams.push(await openSseStream(`${svc.url}/sse`, as('flood')));
      for (const attempt of [
        await initAs(svc.url, 'flood'),
        await httpRequest(`${svc.url}/sse`, { headers: as('flood') }),
      ]) {
        expect(attempt.status).toBe(429);
        expect(attempt.headers['retry-after']).toBe('5');
        expect(attempt.json).toEqual({
          jsonrpc: '2.0',
          id: null,
          error: {
            code: -32017,
            message:
              'Too many sessions for this client: 3 open (MCP_MAX_SESSIONS_PER_IDENTITY); close some or retry in 5 s',
          },
        });
      }
      expect((await initAs(svc.url, 'other')).status).toBe(200);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it('rate-limits session creation per identity with a Retry-After that matches the message', async () => {
    svc = await startService(echoService, {
      env: { MCP_API_KEYS: 'flood,other', MCP_SESSION_RATE_LIMIT: '5' },
    });
    for (let i = 0; i < 5; i += 1) expect((await initAs(svc.url, 'flood')).status).toBe(200);
    const limited = await initAs(svc.url, 'flood');
    // 5 a minute: the next one in 12 s.
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('12');
    expect(limited.json).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32017, message: 'Too many new sessions: retry in 12 s (MCP_SESSION_RATE_LIMIT)' },
    });
    expect((await initAs(svc.url, 'other')).status).toBe(200);
  });
});

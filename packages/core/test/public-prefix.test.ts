import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openSseStream, type StartedService, startService } from '../../testing/src/index.js';
import { createPublicPrefix } from '../src/http/public-prefix.js';
import { echoService } from './helpers/echo-service.js';

/**
 * The legacy SSE transport announces the URL the client POSTs to. Behind nginx at
 * https://mcp.example/sqlite/sse that must be /sqlite/messages, directly on the Docker network
 * /messages: X-Forwarded-Prefix from a trusted proxy, or MCP_PUBLIC_URL's path for its host.
 */

describe('createPublicPrefix', () => {
  const publicUrl = new URL('https://mcp.example/sqlite');
  it('believes X-Forwarded-Prefix only with MCP_TRUST_PROXY, and only a plain path', () => {
    const trusting = createPublicPrefix({ trustProxy: true, publicUrl: undefined });
    expect(trusting({ 'x-forwarded-prefix': '/sqlite' })).toBe('/sqlite');
    expect(trusting({ 'x-forwarded-prefix': '/a/b-c_d.e~/' })).toBe('/a/b-c_d.e~');
    expect(trusting({ 'x-forwarded-prefix': '/one, /two' })).toBe('/one');
    for (const hostile of ['//evil.example', 'https://evil.example/x', '/x?y=1', '/x#y', '/%2e%2e', 'x', '/a b']) {
      expect(trusting({ 'x-forwarded-prefix': hostile })).toBe('');
    }
    expect(trusting({ 'x-forwarded-prefix': `/${'a'.repeat(200)}` })).toBe('');
    const distrusting = createPublicPrefix({ trustProxy: false, publicUrl: undefined });
    expect(distrusting({ 'x-forwarded-prefix': '/sqlite' })).toBe('');
  });

  it("uses MCP_PUBLIC_URL's path for requests to its host, and nothing for others", () => {
    const prefix = createPublicPrefix({ trustProxy: false, publicUrl });
    expect(prefix({ host: 'mcp.example' })).toBe('/sqlite');
    expect(prefix({ host: 'MCP.Example' })).toBe('/sqlite');
    expect(prefix({ host: 'mcp.example:8443' })).toBe('/sqlite');
    expect(prefix({ host: 'mcp.example.evil' })).toBe('');
    expect(prefix({ host: 'mcp-sqlite:8006' })).toBe('');
    expect(prefix({})).toBe('');
    const trusting = createPublicPrefix({ trustProxy: true, publicUrl });
    expect(trusting({ host: 'mcp.example', 'x-forwarded-prefix': '/other' })).toBe('/other');
    expect(
      createPublicPrefix({ trustProxy: false, publicUrl: new URL('https://mcp.example') })({ host: 'mcp.example' }),
    ).toBe('');
  });
});

describe('the SSE endpoint event behind a prefix', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { MCP_TRUST_PROXY: 'true' } });
  });
  afterAll(async () => svc.close());

  it('announces the prefixed endpoint to a proxied client and the plain one to a direct client', async () => {
    const proxied = await openSseStream(`${svc.url}/sse`, { 'x-forwarded-prefix': '/echo' });
    const direct = await openSseStream(`${svc.url}/sse`);
    try {
      const proxiedEndpoint = (await proxied.waitForEvent((event) => event.event === 'endpoint')).data;
      const directEndpoint = (await direct.waitForEvent((event) => event.event === 'endpoint')).data;
      expect(proxiedEndpoint).toMatch(/^\/echo\/messages\?sessionId=[0-9a-f-]{36}$/);
      expect(directEndpoint).toMatch(/^\/messages\?sessionId=[0-9a-f-]{36}$/);
      // The proxy strips its prefix: the service itself still answers at /messages.
      const post = await fetch(new URL(proxiedEndpoint.replace(/^\/echo/, ''), svc.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }),
      });
      expect(post.status).toBe(202);
      const answer = await proxied.waitForEvent((event) => event.event === 'message');
      expect(JSON.parse(answer.data)).toEqual({ jsonrpc: '2.0', id: 7, result: {} });
    } finally {
      proxied.close();
      direct.close();
    }
  });
});

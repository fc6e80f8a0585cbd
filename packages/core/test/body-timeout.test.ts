import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openSseStream, type StartedService, startService } from '../../testing/src/index.js';
import { echoService } from './helpers/echo-service.js';

/** Sends the head of a POST and then its body one byte at a time; resolves with what the server wrote. */
function trickle(port: string, path: string, everyMs: number): Promise<{ answer: string; bytesSent: number }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    let sent = 0;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, bytesSent: sent });
    });
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const timer = setInterval(() => {
      if (sent < body.length && socket.writable) socket.write(body[sent++]!);
    }, everyMs);
  });
}

describe('body timeout (MCP_BODY_TIMEOUT_MS)', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { MCP_BODY_TIMEOUT_MS: '1000', MCP_SSE_HEARTBEAT_MS: '250' } });
  });
  afterAll(async () => svc.close());

  it.concurrent.each(['/rpc', '/mcp', '/messages?sessionId=x'])(
    'cuts a body trickled into %s with a JSON-RPC 408 and closes the connection',
    async (path) => {
      const { answer, bytesSent } = await trickle(String(svc.port), path, 150);
      // Cut long before the whole body arrived (it would take ~8 s at this pace).
      expect(bytesSent).toBeLessThan(30);
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(head).toContain('Connection: close');
      expect(JSON.parse(body!)).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32019, message: 'Request Timeout: the request did not arrive within 1000 ms' },
      });
    },
  );

  it('leaves a long-lived SSE stream alone: it outlives the body timeout', async () => {
    const stream = await openSseStream(`${svc.url}/sse`);
    try {
      // Eight keepalives at 250 ms: the stream is still open twice the body timeout later.
      await stream.waitFor(/(: keepalive\n\n[^]*){8}/, 5000);
      expect(stream.text()).toMatch(/^event: endpoint\n/);
    } finally {
      stream.close();
    }
  });
});

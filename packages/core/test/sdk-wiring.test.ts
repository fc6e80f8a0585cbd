import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';

import { hookConnectedTransport } from '../src/mcp/transport-hook.js';

/**
 * The one place the core relies on how the SDK's Protocol wires a transport in `connect()`
 * (src/mcp/transport-hook.ts): it sets `onmessage` and `onclose` on the transport and sends every
 * message through `transport.send`. If an SDK upgrade changes that, these tests fail before any
 * tools/call is lost.
 */
async function connected() {
  const [peer, transport] = InMemoryTransport.createLinkedPair();
  const received: JSONRPCMessage[] = [];
  peer.onmessage = (message) => received.push(message);
  await peer.start();
  const server = new Server({ name: 'wiring', version: '1' }, { capabilities: {} });
  await server.connect(transport);
  return { server, transport, peer, received };
}

const initialize: JSONRPCMessage = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

describe('how the SDK wires a connected transport', () => {
  it('sets onmessage and onclose, and answers through transport.send', async () => {
    const { transport, peer, received } = await connected();
    expect(typeof transport.onmessage).toBe('function');
    expect(typeof transport.onclose).toBe('function');
    const sent: JSONRPCMessage[] = [];
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      sent.push(message);
      return send(message, options);
    };
    await peer.send(initialize);
    await expect.poll(() => received.length).toBe(1);
    expect(sent).toEqual(received);
    expect(received[0]).toMatchObject({ jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'wiring' } } });
  });

  it('lets the core see every message, answer some itself, and pass the rest and the close to the SDK', async () => {
    const { server, transport, peer, received } = await connected();
    const seen: string[] = [];
    let closedBySdk = false;
    server.onclose = () => {
      closedBySdk = true;
    };
    hookConnectedTransport(transport, {
      onMessage(message, _extra, next) {
        const method = 'method' in message ? message.method : 'response';
        seen.push(method);
        if (method === 'tools/call' && 'id' in message && message.id !== undefined) {
          void transport.send({ jsonrpc: '2.0', id: message.id, result: { content: [], answeredBy: 'core' } });
          return;
        }
        next();
      },
      onClose(next) {
        seen.push('close');
        next();
      },
      send(message, options, next) {
        seen.push(`send:${'id' in message ? String(message.id) : 'notification'}`);
        return next();
      },
    });
    await peer.send(initialize);
    await peer.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'x', arguments: {} } });
    await expect.poll(() => received.length).toBe(2);
    expect(received.find((message) => 'id' in message && message.id === 2)).toEqual({
      jsonrpc: '2.0',
      id: 2,
      result: { content: [], answeredBy: 'core' },
    });
    await transport.close();
    // Protocol answers initialize on a later turn, the core answered the call at once, and the
    // in-memory pair reports its close from both ends.
    expect(new Set(seen)).toEqual(new Set(['initialize', 'send:1', 'tools/call', 'send:2', 'close']));
    expect(closedBySdk).toBe(true);
  });

  it('refuses to hook a transport the SDK did not wire', () => {
    const [, transport] = InMemoryTransport.createLinkedPair();
    expect(() =>
      hookConnectedTransport(transport, {
        onMessage: () => undefined,
        onClose: () => undefined,
        send: () => Promise.resolve(),
      }),
    ).toThrow('The MCP SDK did not set transport.onmessage/onclose in connect(): its wiring changed');
  });
});

import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type ClientTransportKind,
  connectClient,
  httpRequest,
  type ServiceProcess,
  startServiceProcess,
  waitUntil,
} from '../../testing/src/index.js';

/**
 * The official SDK clients against three replicas behind a round-robin TCP proxy (each new
 * connection to the next replica), as behind a load balancer without sticky sessions: every call
 * is answered exactly once. Needs Redis at 127.0.0.1:6379 (REDIS_URL to change).
 */
const fixture = fileURLToPath(new URL('./fixtures/run-echo.ts', import.meta.url));
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const redisAddress = new URL(REDIS_URL);

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Each accepted connection goes to the next of `ports`, in turn. */
function roundRobin(ports: number[]): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let next = 0;
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: ports[next++ % ports.length]! });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = address && typeof address === 'object' ? address.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** The value of a counter in a replica's /metrics, summed over the lines that match `labels`. */
async function counter(replica: ServiceProcess, name: string, labels: string): Promise<number> {
  const text = (await httpRequest(`${replica.url}/metrics`)).text;
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) total += Number(line.split(' ').at(-1));
  }
  return total;
}

describe('the SDK clients behind a round-robin proxy over three replicas', () => {
  const replicas: ServiceProcess[] = [];
  let proxy: { url: string; close(): Promise<void> } | undefined;

  beforeAll(async () => {
    if (!(await reachable(redisAddress.hostname, Number(redisAddress.port || 6379)))) {
      throw new Error(`Redis is not reachable at ${REDIS_URL}: this test needs a real Redis (set REDIS_URL)`);
    }
    const env = {
      MCP_SESSION_STORE: REDIS_URL,
      MCP_SESSION_STORE_PREFIX: `mcp-test-replicas-sdk-${randomUUID()}:`,
      MCP_REPLICA_HEARTBEAT_MS: '1000',
      MCP_FORWARD_TIMEOUT_MS: '5000',
    };
    replicas.push(
      ...(await Promise.all([0, 1, 2].map(() => startServiceProcess(fixture, { readyTimeoutMs: 180_000, env })))),
    );
    for (const replica of replicas) {
      await waitUntil(
        async () =>
          ((await httpRequest(`${replica.url}/health`)).json as { session_store?: string }).session_store === 'up',
        'the session store up',
        { timeoutMs: 30_000 },
      );
    }
    proxy = await roundRobin(replicas.map((replica) => Number(new URL(replica.url).port)));
  }, 400_000);

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(replicas.map((replica) => replica.stop('SIGKILL')));
  });

  it('answers 200 calls over /sse and /mcp, each exactly once', { timeout: 180_000 }, async () => {
    const kinds: ClientTransportKind[] = ['sse', 'streamable-http', 'sse', 'streamable-http'];
    const clients: Client[] = [];
    const errors: Error[] = [];
    for (const kind of kinds) {
      const client = await connectClient(proxy!.url, kind);
      // A duplicate or unknown answer surfaces here (the SDK reports a response it cannot match).
      client.onerror = (error) => errors.push(error);
      clients.push(client);
    }
    const perClient = 50;
    const answers = await Promise.all(
      clients.map(async (client, c) => {
        const texts: string[] = [];
        // Ten at a time per client: concurrent calls on one session, spread over connections.
        for (let start = 0; start < perClient; start += 10) {
          const batch = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              client.callTool({ name: 'echo', arguments: { message: `c${c}-m${start + i}` } }),
            ),
          );
          for (const result of batch) texts.push((result.structuredContent as { message: string }).message);
        }
        return texts;
      }),
    );
    expect(answers).toEqual(clients.map((_, c) => Array.from({ length: perClient }, (_, i) => `c${c}-m${i}`)));
    expect(errors).toEqual([]);
    // Each call ran once, on the replica that holds its session, and some came in through another.
    const ran = await Promise.all(replicas.map((replica) => counter(replica, 'mcp_tool_calls_total', 'tool="echo"')));
    expect(ran.reduce((sum, value) => sum + value, 0)).toBe(200);
    const sent = await Promise.all(
      replicas.map((replica) => counter(replica, 'mcp_forwarded_requests_total', 'direction="sent"')),
    );
    const received = await Promise.all(
      replicas.map((replica) => counter(replica, 'mcp_forwarded_requests_total', 'direction="received"')),
    );
    expect(sent.reduce((sum, value) => sum + value, 0)).toBeGreaterThan(0);
    expect(received.reduce((sum, value) => sum + value, 0)).toBe(sent.reduce((sum, value) => sum + value, 0));
    await Promise.all(clients.map((client) => client.close()));
  });
});

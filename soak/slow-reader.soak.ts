import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type ServiceProcess, startServiceProcess, waitUntil } from '../packages/testing/src/index.js';
import { MiB, mib } from './helpers/memory.js';
import { DATABASE_URL, POSTGRES_ENTRY, report, requirePostgres, START_TIMEOUT_MS } from './helpers/settings.js';
import { post } from './helpers/sse-client.js';

/**
 * Issue 16: a client that stops reading its stream (its socket paused, so the TCP window fills and
 * every answer queues in the server). The core closes such a stream (http/slow-consumer.ts) when a
 * write finds more than MCP_SSE_MAX_BUFFER_BYTES unsent, or when queued data has not drained for
 * MCP_SSE_STALL_TIMEOUT_MS; the service's memory stays bounded meanwhile.
 */
const ANSWER_BYTES = 256 * 1024;
/** What one answer weighs on the stream: the value twice (structuredContent, and the text block). */
const WIRE_BYTES = 2 * ANSWER_BYTES;
const BIG_SQL = `SELECT repeat('x', ${ANSWER_BYTES}) AS x`;
/** The most answers pushed at a stream (100 MiB): far past any limit, so that a missing limit shows. */
const MAX_CALLS = 400;

/** A legacy SSE session on a raw socket, so that the test decides when (and whether) it reads. */
async function openRawSse(url: string): Promise<{ socket: Socket; sessionId: string; text: () => string }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  socket.write(`GET /sse HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`);
  await waitUntil(() => /sessionId=[0-9a-f-]{36}/.test(text), 'the endpoint event');
  const sessionId = /sessionId=([0-9a-f-]{36})/.exec(text)?.[1] ?? '';
  return { socket, sessionId, text: () => text };
}

/** A sample of /metrics: the line of `name` that carries every one of `labels` (0 when absent). */
async function metric(url: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const found = text
    .split('\n')
    .find((line) => line.startsWith(`${name}{`) && wanted.every((pair) => line.includes(pair)));
  return found ? Number(found.slice(found.lastIndexOf(' ') + 1)) : 0;
}

const okCalls = (url: string) => metric(url, 'mcp_tool_calls_total', { tool: 'execute_sql', outcome: 'ok' });
const slowClosed = (url: string, reason: 'buffer' | 'stall') =>
  metric(url, 'mcp_slow_streams_closed_total', { reason });

/**
 * Stops reading the stream, then sends big answers at it one by one (each sent once the previous
 * one was done, so that only the stream holds them), until the session is gone (404) or MAX_CALLS.
 */
async function flood(
  svc: ServiceProcess,
  agent: Agent,
  stopAfter = MAX_CALLS,
): Promise<{ calls: number; refused: boolean; peakRss: number; socket: Socket }> {
  const { socket, sessionId, text } = await openRawSse(svc.url);
  const messages = `${svc.url}/messages?sessionId=${sessionId}`;
  const init = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'soak', version: '1' } },
  };
  expect((await post(messages, init, agent)).status).toBe(202);
  await waitUntil(() => text().includes('"id":0'), 'the initialize answer');
  expect((await post(messages, { jsonrpc: '2.0', method: 'notifications/initialized' }, agent)).status).toBe(202);
  socket.pause();
  const before = await okCalls(svc.url);
  let peakRss = svc.rssBytes();
  for (let call = 1; call <= stopAfter; call += 1) {
    const body = {
      jsonrpc: '2.0',
      id: call,
      method: 'tools/call',
      params: { name: 'execute_sql', arguments: { sql: BIG_SQL } },
    };
    const answer = await post(messages, body, agent);
    if (answer.status === 404) return { calls: call - 1, refused: true, peakRss, socket };
    expect(answer.status).toBe(202);
    await waitUntil(async () => (await okCalls(svc.url)) >= before + call, `call ${call} done`, { timeoutMs: 10_000 });
    peakRss = Math.max(peakRss, svc.rssBytes());
  }
  return { calls: stopAfter, refused: false, peakRss, socket };
}

describe('a client that stops reading its stream', () => {
  let svc: ServiceProcess | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const start = (env: Record<string, string>) =>
    startServiceProcess(POSTGRES_ENTRY, {
      readyTimeoutMs: START_TIMEOUT_MS,
      env: { DATABASE_URL, MCP_RATE_LIMIT: '0', MCP_SSE_HEARTBEAT_MS: '1000', ...env },
    });

  beforeAll(async () => {
    await requirePostgres();
  });

  afterEach(async () => {
    await svc?.stop('SIGKILL');
    svc = undefined;
  });

  it('is closed once more than MCP_SSE_MAX_BUFFER_BYTES are waiting, with memory bounded', async () => {
    const limit = 4 * MiB;
    svc = await start({ MCP_SSE_MAX_BUFFER_BYTES: String(limit), MCP_SSE_STALL_TIMEOUT_MS: '0' });
    // Warm-up: the first big answer loads the SQL parser and grows the heap once.
    await flood(svc, agent, 2).then(({ socket }) => socket.destroy());
    await waitUntil(
      async () => ((await fetch(`${svc?.url}/health`).then((r) => r.json())) as { sessions: number }).sessions === 0,
      'the warm-up session is gone',
    );
    const baseline = svc.rssBytes();
    const { calls, refused, peakRss, socket } = await flood(svc, agent);
    socket.destroy();
    const growth = peakRss - baseline;
    report(
      'slow reader (buffer limit 4 MiB)',
      `closed after ${calls} answers of about 512 KiB on the wire (${mib(calls * WIRE_BYTES)} sent at a stalled client)`,
    );
    report('slow reader peak rss growth', mib(growth));

    expect(refused).toBe(true);
    expect(await slowClosed(svc.url, 'buffer')).toBe(1);
    expect(svc.output()).toContain('"msg":"closing a stream whose client is not reading"');
    // The limit, what the kernel's socket buffers took before it, and the calls' own garbage.
    expect(calls * WIRE_BYTES).toBeLessThan(limit + 16 * MiB);
    expect(growth).toBeLessThan(64 * MiB);
  });

  it('is closed once queued data has not drained for MCP_SSE_STALL_TIMEOUT_MS', async () => {
    svc = await start({ MCP_SSE_MAX_BUFFER_BYTES: String(512 * MiB), MCP_SSE_STALL_TIMEOUT_MS: '2000' });
    // 10 MiB: more than the socket buffers of both ends take, so that writes queue in the process.
    const { socket } = await flood(svc, agent, 40);
    const stopped = performance.now();
    const running = svc;
    await waitUntil(async () => (await slowClosed(running.url, 'stall')) === 1, 'the stalled stream is closed', {
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    report(
      'slow reader (stall limit 2 s)',
      `closed by the stall rule, ${(performance.now() - stopped).toFixed(0)} ms after the last answer was sent`,
    );
    socket.destroy();
    expect(await slowClosed(running.url, 'buffer')).toBe(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  httpRequest,
  INITIALIZE_BODY,
  MCP_POST_HEADERS,
  openSseStream,
  parseSseEvents,
  type RawResponse,
  type SseEvent,
  type SseStream,
  type StartedService,
  startService,
} from '../../testing/src/index.js';
import { echoService } from './helpers/echo-service.js';

/**
 * One provable data path: the same requests sent to a service with the fast lane on (the common
 * path: node:http lane, tools/call straight to the registry) and off (fastify routes, the SDK
 * transports and Protocol's tools/call handler), and, on the lane service, through each fallback
 * (a chunked body, a batch). The whole answers must be the same: status, the headers that matter,
 * and the body (SSE answers compared event by event).
 */

const HEADERS_THAT_MATTER = ['content-type', 'cache-control', 'x-accel-buffering', 'retry-after', 'allow'];

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
}

/** A response as comparable data: ids of sessions and requests are not part of the answer. */
function normalize(res: RawResponse): Answer {
  const headers: Record<string, unknown> = Object.fromEntries(
    HEADERS_THAT_MATTER.map((name) => [name, res.headers[name]]),
  );
  headers['has-session-id'] = res.headers['mcp-session-id'] !== undefined;
  const type = String(res.headers['content-type'] ?? '');
  const body = type.startsWith('text/event-stream')
    ? parseSseEvents(res.text).map((event) => ({ event: event.event, data: JSON.parse(event.data) as unknown }))
    : (res.json ?? res.text);
  return { status: res.status, headers, body };
}

const message = (id: number, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
});

/** Tool calls that end every way a call can end, one with progress notifications before its answer. */
const CALLS = [
  ['a result', message(7, 'echo', { message: 'hi' })],
  ['progress, then a result', message(8, 'slow', { ms: 20, steps: 2 }, { progressToken: 'p' })],
  ['an isError result', message(9, 'fail', { kind: 'service' })],
  ['invalid arguments', message(10, 'echo', { message: 42 })],
  ['an unknown tool', message(11, 'no_such_tool', {})],
] as const;

type Variant = 'lane' | 'chunked';

/** A POST with Content-Length (what the lane takes) or chunked (what it leaves to fastify). */
function post(url: string, body: unknown, headers: Record<string, string>, variant: Variant) {
  const text = JSON.stringify(body);
  return httpRequest(url, {
    method: 'POST',
    headers: variant === 'lane' ? { ...headers, 'content-length': String(Buffer.byteLength(text)) } : headers,
    body: text,
  });
}

interface Target {
  svc: StartedService;
  mcpSession: string;
  sse: SseStream;
}

async function openTarget(fastLane: boolean): Promise<Target> {
  const svc = await startService(echoService, { env: { MCP_FAST_LANE: String(fastLane), MCP_RATE_LIMIT: '0' } });
  const init = await httpRequest(`${svc.url}/mcp`, {
    method: 'POST',
    headers: MCP_POST_HEADERS,
    body: JSON.stringify(INITIALIZE_BODY),
  });
  const mcpSession = init.headers['mcp-session-id'] as string;
  await httpRequest(`${svc.url}/mcp`, {
    method: 'POST',
    headers: { ...MCP_POST_HEADERS, 'mcp-session-id': mcpSession },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  const sse = await openSseStream(`${svc.url}/sse`);
  const postSse = (body: unknown) =>
    httpRequest(`${svc.url}/messages?sessionId=${sse.sessionId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await postSse({ ...INITIALIZE_BODY, params: { ...INITIALIZE_BODY.params, protocolVersion: '2024-11-05' } });
  await sse.waitForEvent((event) => event.data.includes('"id":1'));
  await postSse({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return { svc, mcpSession, sse };
}

describe('one data path: the fast lane on and off give the same answers', () => {
  let on: Target;
  let off: Target;
  beforeAll(async () => {
    [on, off] = await Promise.all([openTarget(true), openTarget(false)]);
  });
  afterAll(async () => {
    for (const target of [on, off]) {
      target.sse.close();
      await target.svc.close();
    }
  });

  const mcpHeaders = (target: Target) => ({
    ...MCP_POST_HEADERS,
    'mcp-session-id': target.mcpSession,
    'mcp-protocol-version': '2025-11-25',
  });

  describe.each(CALLS)('a tools/call with %s', (_name, call) => {
    it('on /rpc: lane, chunked (fastify) and lane off agree', async () => {
      const headers = { 'content-type': 'application/json' };
      const common = normalize(await post(`${on.svc.url}/rpc`, call, headers, 'lane'));
      expect(normalize(await post(`${on.svc.url}/rpc`, call, headers, 'chunked'))).toEqual(common);
      expect(normalize(await post(`${off.svc.url}/rpc`, call, headers, 'lane'))).toEqual(common);
      expect(common.status).toBe(200);
    });

    it('on /rpc in a batch: the batch answer holds the same answer', async () => {
      const headers = { 'content-type': 'application/json' };
      const single = normalize(await post(`${on.svc.url}/rpc`, call, headers, 'lane'));
      for (const target of [on, off]) {
        const batch = normalize(await post(`${target.svc.url}/rpc`, [call], headers, 'lane'));
        expect(batch).toEqual({ ...single, body: [single.body] });
      }
    });

    it("on /mcp: the lane's SSE answer is the SDK transport's, event by event", async () => {
      const common = normalize(await post(`${on.svc.url}/mcp`, call, mcpHeaders(on), 'lane'));
      expect(normalize(await post(`${on.svc.url}/mcp`, call, mcpHeaders(on), 'chunked'))).toEqual(common);
      expect(normalize(await post(`${off.svc.url}/mcp`, call, mcpHeaders(off), 'lane'))).toEqual(common);
      expect(common.headers).toEqual({
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        'retry-after': undefined,
        allow: undefined,
        'has-session-id': true,
      });
    });

    it('on /messages: the same 202, and the same events on the stream', async () => {
      const events = async (target: Target, variant: Variant) => {
        const before = target.sse.events().length;
        const accepted = await post(
          `${target.svc.url}/messages?sessionId=${target.sse.sessionId}`,
          call,
          { 'content-type': 'application/json' },
          variant,
        );
        const isAnswer = (event: SseEvent) =>
          event.event === 'message' && (JSON.parse(event.data) as { id?: number }).id === call.id;
        await target.sse.waitForEvent((event) => isAnswer(event) && target.sse.events().indexOf(event) >= before);
        const received = target.sse.events();
        const mine = received.slice(before, received.findIndex((event, i) => i >= before && isAnswer(event)) + 1);
        return {
          accepted: { status: accepted.status, text: accepted.text },
          events: mine.map((event) => ({ event: event.event, data: JSON.parse(event.data) as unknown })),
        };
      };
      const common = await events(on, 'lane');
      expect(await events(on, 'chunked')).toEqual(common);
      expect(await events(off, 'lane')).toEqual(common);
      expect(common.accepted).toEqual({ status: 202, text: 'Accepted' });
    });
  });

  describe('the messages around the calls', () => {
    const NOTES = [
      ['notifications/initialized', { jsonrpc: '2.0', method: 'notifications/initialized' }],
      ['a response to a request never sent', { jsonrpc: '2.0', id: 'never-asked', result: {} }],
      [
        'notifications/cancelled of no call',
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 99 } },
      ],
    ] as const;

    it.each(NOTES)('on /mcp, %s: the same empty 202', async (_name, note) => {
      const common = normalize(await post(`${on.svc.url}/mcp`, note, mcpHeaders(on), 'lane'));
      expect(normalize(await post(`${on.svc.url}/mcp`, note, mcpHeaders(on), 'chunked'))).toEqual(common);
      expect(normalize(await post(`${off.svc.url}/mcp`, note, mcpHeaders(off), 'lane'))).toEqual(common);
      expect(common).toEqual({
        status: 202,
        headers: {
          'content-type': undefined,
          'cache-control': undefined,
          'x-accel-buffering': 'no',
          'retry-after': undefined,
          allow: undefined,
          'has-session-id': false,
        },
        body: '',
      });
    });

    it('on /messages, a ping and a notification: the same 202, and the same answer on the stream', async () => {
      const exchange = async (target: Target, variant: Variant, id: number) => {
        const url = `${target.svc.url}/messages?sessionId=${target.sse.sessionId}`;
        const headers = { 'content-type': 'application/json' };
        const note = await post(url, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, headers, variant);
        const ping = await post(url, { jsonrpc: '2.0', id, method: 'ping' }, headers, variant);
        const answer = await target.sse.waitForEvent((event) => event.data.includes(`"id":${id}`));
        const { id: _id, ...rest } = JSON.parse(answer.data) as { id: number };
        return [note, ping].map((res) => ({ status: res.status, text: res.text })).concat([rest as never]);
      };
      const common = await exchange(on, 'lane', 101);
      expect(await exchange(on, 'chunked', 102)).toEqual(common);
      expect(await exchange(off, 'lane', 103)).toEqual(common);
      expect(common).toEqual([
        { status: 202, text: 'Accepted' },
        { status: 202, text: 'Accepted' },
        { jsonrpc: '2.0', result: {} },
      ]);
    });

    it('DELETE /mcp: the same 200, and the session is gone on both', async () => {
      const deleteOne = async (target: Target) => {
        const init = await httpRequest(`${target.svc.url}/mcp`, {
          method: 'POST',
          headers: MCP_POST_HEADERS,
          body: JSON.stringify(INITIALIZE_BODY),
        });
        const headers = { ...mcpHeaders(target), 'mcp-session-id': init.headers['mcp-session-id'] as string };
        const deleted = await httpRequest(`${target.svc.url}/mcp`, { method: 'DELETE', headers });
        const after = await post(`${target.svc.url}/mcp`, CALLS[0][1], headers, 'lane');
        return { deleted: normalize(deleted), after: normalize(after) };
      };
      const common = await deleteOne(on);
      expect(await deleteOne(off)).toEqual(common);
      expect(common.deleted).toMatchObject({ status: 200, body: '' });
      expect(common.after).toMatchObject({ status: 404 });
    });
  });
});

import { request } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';

import { buildApp, loadConfig } from '@mcp-sse/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  httpRequest,
  INITIALIZE_BODY,
  MCP_POST_HEADERS,
  openSseStream,
  parseSseEvents,
  type RawResponse,
  type StartedService,
  startService,
} from '../../testing/src/index.js';
import { SSE_HEAD_HOLD_MS } from '../src/http/sse-writer.js';
import { echoService } from './helpers/echo-service.js';

/**
 * The fast lane (src/http/fast-lane.ts) serves POST /rpc, /mcp and /messages bodies of a known length;
 * node:http sends a string body without Content-Length as chunked, which fastify serves. Each
 * answer the lane gives must be the one fastify gives, and everything it does not take must reach
 * fastify unchanged. Lane answers carry a `lane-` request id when the client sent none.
 */
type Deps = { calls: number; finished: string[]; aborted: string[] };

const json = (value: unknown) => JSON.stringify(value);

/** These tests are about the lane itself: it is on whatever MCP_TEST_FAST_LANE says. */
const LANE = { MCP_FAST_LANE: 'true' };

/** POST with Content-Length (the lane) or chunked (fastify). */
function post(url: string, body: string, headers: Record<string, string>, chunked = false) {
  return httpRequest(url, {
    method: 'POST',
    headers: chunked ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
}

const laneId = (res: RawResponse) => String(res.headers['x-request-id']);

/** The headers of a POST /mcp on an open Streamable HTTP session. */
const sessionHeaders = (sid: string) => ({
  ...MCP_POST_HEADERS,
  'mcp-session-id': sid,
  'mcp-protocol-version': '2025-11-25',
});

/** Opens a Streamable HTTP session (initialize, notifications/initialized, then `more`); its id. */
async function openMcpSession(url: string, ...more: object[]): Promise<string> {
  const init = await post(`${url}/mcp`, json(INITIALIZE_BODY), MCP_POST_HEADERS);
  const sid = init.headers['mcp-session-id'] as string;
  for (const message of [{ jsonrpc: '2.0', method: 'notifications/initialized' }, ...more]) {
    const res = await post(`${url}/mcp`, json(message), sessionHeaders(sid));
    expect(res.status).toBeLessThan(300);
  }
  return sid;
}

/** Sends `body` (all of it, or only `partial` of it) with its full Content-Length, then hangs up after `ms`. */
function hangUp(url: string, headers: Record<string, string>, body: string, ms: number, partial?: string) {
  return new Promise<void>((resolve) => {
    const req = request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    });
    req.on('error', () => resolve());
    if (partial === undefined) req.end(body);
    else req.write(partial);
    setTimeout(() => {
      req.destroy();
      resolve();
    }, ms);
  });
}

/** A tools/call of the echo service's slow tool, tagged so that its abort can be seen. */
const slowCall = (id: number, tag: string, ms = 2000) =>
  json({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { ms, steps: 1, tag } } });

describe('fast lane: POST /rpc', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { ...LANE, MCP_API_KEYS: 'k1' } });
  });
  afterAll(async () => svc.close());
  const auth = { 'content-type': 'application/json', authorization: 'Bearer k1' };

  it.each([
    [
      'a tool call',
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } },
    ],
    ['tools/list', { jsonrpc: '2.0', id: 'a', method: 'tools/list' }],
    ['an unknown tool', { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'nope', arguments: {} } }],
    ['invalid arguments', { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: {} } }],
    [
      'a batch',
      [
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
      ],
    ],
    ['not JSON-RPC', { hello: 'world' }],
    ['an empty batch', []],
    ['an unknown method', { jsonrpc: '2.0', id: 9, method: 'nope/nope' }],
  ])('answers %s exactly as fastify does', async (_name, message) => {
    const lane = await post(`${svc.url}/rpc`, json(message), auth);
    const routed = await post(`${svc.url}/rpc`, json(message), auth, true);
    expect(laneId(lane)).toMatch(/^lane-/);
    expect(laneId(routed)).not.toMatch(/^lane-/);
    expect(lane.status).toBe(routed.status);
    expect(lane.headers['content-type']).toBe(routed.headers['content-type']);
    expect(lane.json).toEqual(routed.json);
  });

  it('answers a notification with an empty 202', async () => {
    const lane = await post(`${svc.url}/rpc`, json({ jsonrpc: '2.0', method: 'notifications/initialized' }), auth);
    expect(lane.status).toBe(202);
    expect(lane.text).toBe('');
    expect(laneId(lane)).toMatch(/^lane-/);
  });

  it('answers bad JSON and prototype poisoning with the parse error fastify gives', async () => {
    for (const body of ['{"jsonrpc":', '{"__proto__":{"polluted":1},"jsonrpc":"2.0","id":1,"method":"ping"}']) {
      const lane = await post(`${svc.url}/rpc`, body, auth);
      const routed = await post(`${svc.url}/rpc`, body, auth, true);
      expect(lane.status).toBe(400);
      expect(lane.json).toEqual(routed.json);
      expect(lane.json).toMatchObject({ error: { code: -32700, message: 'Parse error: the body is not valid JSON' } });
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it("keeps the client's request id", async () => {
    const res = await post(`${svc.url}/rpc`, json({ jsonrpc: '2.0', id: 1, method: 'ping' }), {
      ...auth,
      'x-request-id': 'trace-42',
    });
    expect(res.headers['x-request-id']).toBe('trace-42');
  });

  it('leaves refused requests to fastify: no key, a bad key, a bad Host, a bad Origin, a wrong type', async () => {
    const body = json({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const cases: Array<[Record<string, string>, number]> = [
      [{ 'content-type': 'application/json' }, 401],
      [{ 'content-type': 'application/json', authorization: 'Bearer nope' }, 401],
      [{ ...auth, host: 'evil.example' }, 403],
      [{ ...auth, origin: 'http://evil.example' }, 403],
      [{ authorization: 'Bearer k1', 'content-type': 'text/plain' }, 415],
    ];
    for (const [headers, status] of cases) {
      const res = await post(`${svc.url}/rpc`, body, headers);
      expect(res.status).toBe(status);
      expect(laneId(res)).not.toMatch(/^lane-/);
    }
  });

  it('leaves a body over the limit to fastify (413)', async () => {
    const small = await startService(echoService, { env: { ...LANE, MCP_BODY_LIMIT: '1024' } });
    try {
      const message = {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: 'x'.repeat(2000) } },
      };
      const res = await post(`${small.url}/rpc`, json(message), { 'content-type': 'application/json' });
      expect(res.status).toBe(413);
      expect(res.text).toContain('MCP_BODY_LIMIT');
    } finally {
      await small.close();
    }
  });

  it('cancels the call when the client hangs up', async () => {
    const tag = 'lane-rpc-hangup';
    await hangUp(`${svc.url}/rpc`, auth, slowCall(1, tag), 100);
    await expect.poll(() => (svc.app.mcp.deps as Deps).aborted).toContain(tag);
    expect((svc.app.mcp.deps as Deps).finished).not.toContain(tag);
  });

  it('rate-limits with 429 and retry-after, as fastify does', async () => {
    const limited = await startService(echoService, { env: { ...LANE, MCP_RATE_LIMIT: '1' } });
    try {
      const call = json({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: 'x' } },
      });
      const headers = { 'content-type': 'application/json' };
      expect((await post(`${limited.url}/rpc`, call, headers)).status).toBe(200);
      const lane = await post(`${limited.url}/rpc`, call, headers);
      const routed = await post(`${limited.url}/rpc`, call, headers, true);
      expect(lane.status).toBe(429);
      expect(lane.headers['retry-after']).toBe('60');
      expect(lane.json).toEqual(routed.json);
    } finally {
      await limited.close();
    }
  });
});

describe('fast lane: POST /mcp on a session', () => {
  let svc: StartedService;
  let sid: string;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { ...LANE, MCP_SSE_HEARTBEAT_MS: '100' } });
    sid = await openMcpSession(svc.url);
  });
  afterAll(async () => svc.close());
  const headers = () => sessionHeaders(sid);
  const events = (text: string) =>
    parseSseEvents(text)
      .filter((event) => event.event === 'message')
      .map((event) => JSON.parse(event.data) as Record<string, unknown>);

  it('answers a tool call as an SSE response, with the headers the SDK transport sends', async () => {
    const message = {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'hé' } },
    };
    const lane = await post(`${svc.url}/mcp`, json(message), headers());
    const routed = await post(`${svc.url}/mcp`, json({ ...message, id: 8 }), headers(), true);
    expect(laneId(lane)).toMatch(/^lane-/);
    expect(lane.status).toBe(200);
    for (const name of ['content-type', 'cache-control', 'x-accel-buffering', 'mcp-session-id']) {
      expect(lane.headers[name]).toBe(routed.headers[name]);
    }
    expect(events(lane.text)).toEqual([
      {
        jsonrpc: '2.0',
        id: 7,
        result: { content: [{ type: 'text', text: '{"message":"hé"}' }], structuredContent: { message: 'hé' } },
      },
    ]);
    expect(events(routed.text)[0]).toMatchObject({ id: 8, result: events(lane.text)[0]!['result'] });
  });

  it('answers an unknown tool with a JSON-RPC error', async () => {
    const res = await post(
      `${svc.url}/mcp`,
      json({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'nope' } }),
      headers(),
    );
    expect(laneId(res)).toMatch(/^lane-/);
    expect(events(res.text)).toEqual([
      { jsonrpc: '2.0', id: 3, error: { code: -32602, message: 'Unknown tool: nope' } },
    ]);
  });

  it('streams progress before the result and keepalive comments while a call runs', async () => {
    const res = await post(
      `${svc.url}/mcp`,
      json({
        jsonrpc: '2.0',
        id: 4,
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 300, steps: 2 }, _meta: { progressToken: 'p1' } },
      }),
      headers(),
    );
    expect(laneId(res)).toMatch(/^lane-/);
    // The tool also logs (notifications/message, every level until logging/setLevel).
    const all = events(res.text).filter((m) => m['method'] !== 'notifications/message');
    expect(all.map((m) => m['method'] ?? 'result')).toEqual([
      'notifications/progress',
      'notifications/progress',
      'result',
    ]);
    expect(all[0]).toMatchObject({ params: { progressToken: 'p1', progress: 1, total: 2, message: 'step 1' } });
    expect(res.text).toMatch(/^: keepalive$/m);
  });

  it('hands other messages to the SDK transport (tools/list, a batch, a notification)', async () => {
    const list = await post(`${svc.url}/mcp`, json({ jsonrpc: '2.0', id: 5, method: 'tools/list' }), headers());
    expect(laneId(list)).toMatch(/^lane-/);
    expect(list.text).toContain('"name":"echo"');
    const batch = await post(
      `${svc.url}/mcp`,
      json([
        { jsonrpc: '2.0', id: 6, method: 'ping' },
        { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { message: 'b' } } },
      ]),
      headers(),
    );
    expect(events(batch.text).map((m) => m['id'])).toEqual([6, 7]);
  });

  it('takes notifications and responses itself: an empty 202, and notifications/cancelled stops the call', async () => {
    const tag = 'lane-mcp-cancelled';
    const running = post(`${svc.url}/mcp`, slowCall(21, tag, 3000), headers());
    await expect.poll(() => svc.app.mcp.sessions.get(sid)?.active).toBe(1);
    const cancel = await post(
      `${svc.url}/mcp`,
      json({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 21, reason: 'no longer needed' },
      }),
      headers(),
    );
    expect(laneId(cancel)).toMatch(/^lane-/);
    expect({ status: cancel.status, text: cancel.text, buffering: cancel.headers['x-accel-buffering'] }).toEqual({
      status: 202,
      text: '',
      buffering: 'no',
    });
    await expect.poll(() => (svc.app.mcp.deps as Deps).aborted).toContain(tag);
    // A cancelled request gets no answer: its stream ends without one.
    expect(events((await running).text).filter((m) => 'result' in m || 'error' in m)).toEqual([]);
    // A response to a request the server never sent is accepted and dropped, as by the SDK transport.
    const stray = await post(`${svc.url}/mcp`, json({ jsonrpc: '2.0', id: 'never-asked', result: {} }), headers());
    expect([stray.status, laneId(stray)]).toEqual([202, expect.stringMatching(/^lane-/)]);
    // Not one JSON-RPC message (a notification with an id of the wrong type, a batch): the SDK's answers.
    const bad = await post(`${svc.url}/mcp`, json({ jsonrpc: '2.0', method: 'notifications/x', id: {} }), headers());
    const batch = await post(
      `${svc.url}/mcp`,
      json([{ jsonrpc: '2.0', method: 'notifications/initialized' }]),
      headers(),
    );
    expect([bad.status, batch.status]).toEqual([400, 202]);
    for (const res of [bad, batch]) expect(laneId(res)).toMatch(/^lane-/);
  });

  it("leaves the SDK's own refusals to it: Accept (406), protocol version (400), other sessions (404)", async () => {
    const call = json({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'x' } },
    });
    const notAcceptable = await post(`${svc.url}/mcp`, call, { ...headers(), accept: 'application/json' });
    expect(notAcceptable.status).toBe(406);
    const badVersion = await post(`${svc.url}/mcp`, call, { ...headers(), 'mcp-protocol-version': '1999-01-01' });
    expect(badVersion.status).toBe(400);
    const unknown = await post(`${svc.url}/mcp`, call, { ...headers(), 'mcp-session-id': 'no-such-session' });
    expect(unknown.status).toBe(404);
    for (const res of [notAcceptable, badVersion, unknown]) expect(laneId(res)).not.toMatch(/^lane-/);
  });

  it("ends a running call's stream without an answer when the session is deleted", async () => {
    const init = await post(`${svc.url}/mcp`, json(INITIALIZE_BODY), MCP_POST_HEADERS);
    const other = init.headers['mcp-session-id'] as string;
    const tag = 'lane-mcp-deleted';
    const running = post(`${svc.url}/mcp`, slowCall(11, tag, 3000), { ...headers(), 'mcp-session-id': other });
    await expect.poll(() => svc.app.mcp.sessions.get(other)?.active).toBe(1);
    const deleted = await httpRequest(`${svc.url}/mcp`, {
      method: 'DELETE',
      headers: { ...headers(), 'mcp-session-id': other },
    });
    expect([deleted.status, deleted.text, laneId(deleted)]).toEqual([200, '', expect.stringMatching(/^lane-/)]);
    expect(svc.app.mcp.sessions.get(other)).toBeUndefined();
    const res = await running;
    expect(res.status).toBe(200);
    // The tool's log messages came before; no answer follows.
    expect(events(res.text).filter((m) => 'result' in m || 'error' in m)).toEqual([]);
    await expect.poll(() => (svc.app.mcp.deps as Deps).aborted).toContain(tag);
  });

  it('leaves a DELETE it cannot serve to fastify: no or unknown session, a bad version, a body', async () => {
    const del = (extra: Record<string, string>, body?: string) =>
      httpRequest(`${svc.url}/mcp`, { method: 'DELETE', headers: { ...headers(), ...extra }, body });
    const { 'mcp-session-id': _sid, ...noSession } = headers();
    const answers = [
      await httpRequest(`${svc.url}/mcp`, { method: 'DELETE', headers: noSession }),
      await del({ 'mcp-session-id': 'no-such-session' }),
      await del({ 'mcp-protocol-version': '1999-01-01' }),
      await del({ 'content-length': '2' }, '{}'),
    ];
    expect(answers.map((res) => res.status)).toEqual([400, 404, 400, 200]);
    for (const res of answers) expect(laneId(res)).not.toMatch(/^lane-/);
    // The last one, through fastify and the SDK transport, closed the session: open it again.
    const init = await post(`${svc.url}/mcp`, json(INITIALIZE_BODY), MCP_POST_HEADERS);
    sid = init.headers['mcp-session-id'] as string;
    const note = await post(`${svc.url}/mcp`, json({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers());
    expect(note.status).toBe(202);
  });

  it('survives a client that stops half-way through its body', async () => {
    await hangUp(`${svc.url}/mcp`, headers(), 'x'.repeat(500), 50, '{"jsonrpc":"2.0","id":1,');
    const res = await post(
      `${svc.url}/mcp`,
      json({
        jsonrpc: '2.0',
        id: 12,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: 'still here' } },
      }),
      headers(),
    );
    expect(res.text).toContain('still here');
  });

  it('cancels the call when the client hangs up, and the session is idle again', async () => {
    const tag = 'lane-mcp-hangup';
    await hangUp(`${svc.url}/mcp`, headers(), slowCall(9, tag), 150);
    await expect.poll(() => (svc.app.mcp.deps as Deps).aborted).toContain(tag);
    await expect.poll(() => svc.app.mcp.sessions.get(sid)?.active).toBe(0);
  });
});

describe("fast lane: the head of a tool call's SSE answer", () => {
  let svc: StartedService;
  let sid: string;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { ...LANE, MCP_SSE_HEARTBEAT_MS: '100' } });
    // The slow tool logs at info and debug: at emergency it sends nothing until its answer.
    sid = await openMcpSession(svc.url, {
      jsonrpc: '2.0',
      id: 'level',
      method: 'logging/setLevel',
      params: { level: 'emergency' },
    });
  });
  afterAll(async () => svc.close());
  const headers = () => sessionHeaders(sid);
  const silentCall = (id: number, ms: number) =>
    json({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { ms, steps: 1 } } });

  /** The chunks a raw socket reads for one POST, until the chunked answer's last chunk. */
  function readChunks(body: string): Promise<string[]> {
    const { port } = new URL(svc.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      const chunks: string[] = [];
      socket.on('error', reject);
      socket.on('data', (data: Buffer) => {
        chunks.push(data.toString('utf8'));
        if (chunks.join('').endsWith('\r\n0\r\n\r\n')) {
          socket.destroy();
          resolve(chunks);
        }
      });
      const head = Object.entries({
        ...headers(),
        host: `127.0.0.1:${port}`,
        'content-length': Buffer.byteLength(body),
      })
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      socket.write(`POST /mcp HTTP/1.1\r\n${head}\r\n${body}`);
    });
  }

  it('goes out with the answer of a call that waits on I/O for less than SSE_HEAD_HOLD_MS', async () => {
    // A call that ends on a later turn of the event loop (a timer here, a query in postgres): the
    // head written on its own would reach this socket as a chunk of its own, long before the answer.
    for (const [id, ms] of [
      [31, 5],
      [32, 20],
      [33, Math.floor(SSE_HEAD_HOLD_MS / 2)],
    ] as const) {
      const chunks = await readChunks(silentCall(id, ms));
      expect(chunks[0]).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(chunks[0]).toContain(`"id":${id},"result":{`);
      expect(chunks[0]).toContain('\r\n0\r\n\r\n');
    }
  });

  it('goes out after SSE_HEAD_HOLD_MS while a silent call runs, then keepalives, then the answer', async () => {
    const arrivals: Array<{ what: 'head' | 'data'; text: string; active: number | undefined }> = [];
    const active = () => svc.app.mcp.sessions.get(sid)?.active;
    const body = silentCall(34, 1500);
    await new Promise<void>((resolve, reject) => {
      const req = request(`${svc.url}/mcp`, {
        method: 'POST',
        headers: { ...headers(), 'content-length': String(Buffer.byteLength(body)) },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        arrivals.push({ what: 'head', text: String(res.statusCode), active: active() });
        res.setEncoding('utf8');
        res.on('data', (text: string) => arrivals.push({ what: 'data', text, active: active() }));
        res.on('end', () => resolve());
      });
      req.end(body);
    });
    // The head while the call still ran, keepalive comments while it ran, the answer last.
    expect(arrivals[0]).toEqual({ what: 'head', text: '200', active: 1 });
    const text = arrivals
      .slice(1)
      .map((arrival) => arrival.text)
      .join('');
    expect(text).toMatch(/^(: keepalive\n\n)+event: message\ndata: \{"jsonrpc":"2\.0","id":34,"result":\{/);
    expect(arrivals.filter((arrival) => arrival.text.includes(': keepalive')).every((a) => a.active === 1)).toBe(true);
  });
});

describe('fast lane: POST /messages on a legacy SSE session', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(echoService, { env: LANE });
  });
  afterAll(async () => svc.close());

  it('accepts a tool call with 202 and answers it on the stream', async () => {
    const stream = await openSseStream(`${svc.url}/sse`);
    try {
      const url = `${svc.url}/messages?sessionId=${stream.sessionId}`;
      const headers = { 'content-type': 'application/json' };
      // initialize and notifications/initialized: the lane hands them to the session's Protocol.
      const init = await post(url, json(INITIALIZE_BODY), headers);
      const note = await post(url, json({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
      for (const res of [init, note]) {
        expect([res.status, res.text, laneId(res)]).toEqual([202, 'Accepted', expect.stringMatching(/^lane-/)]);
      }
      await stream.waitFor(/"result":\{"protocolVersion":"2025-11-25".*"id":1\}/);
      const res = await post(
        url,
        json({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'echo', arguments: { message: 'on the stream' } },
        }),
        headers,
      );
      expect(res.status).toBe(202);
      expect(res.text).toBe('Accepted');
      expect(laneId(res)).toMatch(/^lane-/);
      await stream.waitFor(
        /"id":2,"result":\{"content":\[\{"type":"text","text":"\{\\"message\\":\\"on the stream\\"\}"\}\]/,
      );
      // Not JSON: the same parse error as fastify gives, and nothing on the stream.
      const bad = await post(url, '{"id":', headers);
      expect(bad.status).toBe(400);
      expect(bad.json).toMatchObject({ error: { code: -32700 } });
    } finally {
      stream.close();
    }
  });

  it("leaves another identity's session and unknown sessions to fastify (404)", async () => {
    const res = await post(`${svc.url}/messages?sessionId=nope`, json({ jsonrpc: '2.0', id: 1, method: 'ping' }), {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(404);
    expect(laneId(res)).not.toMatch(/^lane-/);
  });
});

describe('fast lane: request logging', () => {
  it('logs the requests it takes at debug, as fastify logs its own', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const config = loadConfig(echoService.config, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug' });
    const app = await buildApp(echoService, { config, logger: pino({ level: 'debug' }, sink), defaultMetrics: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error('unexpected address');
      const url = `http://127.0.0.1:${address.port}`;
      const res = await post(`${url}/rpc`, json({ jsonrpc: '2.0', id: 1, method: 'ping' }), {
        'content-type': 'application/json',
      });
      expect(laneId(res)).toMatch(/^lane-/);
      await expect
        .poll(() => lines.find((line) => line['msg'] === 'request' && line['reqId'] === laneId(res)))
        .toMatchObject({ level: 20, method: 'POST', url: '/rpc', status: 200 });
    } finally {
      await app.close();
    }
  });
});

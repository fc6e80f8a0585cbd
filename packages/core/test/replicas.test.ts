import { createHash, randomUUID } from 'node:crypto';
import { request as httpRequestRaw } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  httpRequest,
  INITIALIZE_BODY,
  MCP_POST_HEADERS,
  openSseStream,
  parseSseEvents,
  type RawResponse,
  type ServiceProcess,
  startService,
  startServiceProcess,
  startTcpProxy,
  waitUntil,
} from '../../testing/src/index.js';
import { echoService } from './helpers/echo-service.js';

/**
 * Several replicas of the echo service as real processes sharing one Redis (MCP_SESSION_STORE):
 * requests of a session that land on a replica which does not hold its stream are forwarded to the
 * one that does. Needs Redis at 127.0.0.1:6379 (REDIS_URL to change); each run uses its own prefix.
 */
const fixture = fileURLToPath(new URL('./fixtures/run-echo.ts', import.meta.url));
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const redisAddress = new URL(REDIS_URL);
const KEY_ONE = 'replica-test-key-one';
const KEY_TWO = 'replica-test-key-two';
const ONE = { authorization: `Bearer ${KEY_ONE}` };
const TWO = { authorization: `Bearer ${KEY_TWO}` };

function redisReachable(host: string, port: number): Promise<boolean> {
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

const rpcBody = (id: number, method: string, params: unknown = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params });
const echoCall = (id: number, message: string) => rpcBody(id, 'tools/call', { name: 'echo', arguments: { message } });

/** Opens a Streamable HTTP session on `url` (initialize + initialized); its id. */
async function initialize(url: string, headers: Record<string, string>): Promise<string> {
  const answer = await httpRequest(`${url}/mcp`, {
    method: 'POST',
    headers: { ...MCP_POST_HEADERS, ...headers },
    body: JSON.stringify(INITIALIZE_BODY),
  });
  expect(answer.status).toBe(200);
  const id = answer.headers['mcp-session-id'];
  if (typeof id !== 'string') throw new Error(`no session id: ${answer.status} ${answer.text}`);
  const initialized = await httpRequest(`${url}/mcp`, {
    method: 'POST',
    headers: { ...MCP_POST_HEADERS, ...headers, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  expect(initialized.status).toBe(202);
  return id;
}

/** One Streamable HTTP POST of a session; the SSE events of its answer, parsed. */
function sessionPost(url: string, session: string, body: string, headers: Record<string, string> = ONE) {
  return httpRequest(`${url}/mcp`, {
    method: 'POST',
    headers: { ...MCP_POST_HEADERS, ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    body,
  });
}

const messagesOf = (answer: RawResponse) =>
  parseSseEvents(answer.text).map((event) => JSON.parse(event.data) as unknown);

const storeState = async (replica: ServiceProcess) =>
  ((await httpRequest(`${replica.url}/health`)).json as { session_store?: string }).session_store;

/** A replica that listens and whose session store is up. */
async function startReplica(env: Record<string, string>): Promise<ServiceProcess> {
  // Generous: on a loaded machine a process from source takes a while to listen.
  const replica = await startServiceProcess(fixture, {
    readyTimeoutMs: 180_000,
    env: {
      MCP_API_KEYS: `${KEY_ONE},${KEY_TWO}`,
      MCP_REPLICA_HEARTBEAT_MS: '1000',
      MCP_FORWARD_TIMEOUT_MS: String(FORWARD_TIMEOUT_MS),
      LOG_LEVEL: 'info',
      ...env,
    },
  });
  await waitUntil(async () => (await storeState(replica)) === 'up', 'the session store up', { timeoutMs: 30_000 });
  return replica;
}

/** Long enough for a first, cold forwarded call on a loaded machine. */
const FORWARD_TIMEOUT_MS = 5000;

describe('several replicas sharing sessions through Redis', { timeout: 60_000 }, () => {
  const prefix = `mcp-test-replicas-${randomUUID()}:`;
  const store = { MCP_SESSION_STORE: REDIS_URL, MCP_SESSION_STORE_PREFIX: prefix };
  let a: ServiceProcess;
  let b: ServiceProcess;
  let c: ServiceProcess;
  const started: ServiceProcess[] = [];

  beforeAll(async () => {
    if (!(await redisReachable(redisAddress.hostname, Number(redisAddress.port || 6379)))) {
      throw new Error(`Redis is not reachable at ${REDIS_URL}: these tests need a real Redis (set REDIS_URL)`);
    }
    [a, b, c] = await Promise.all([startReplica(store), startReplica(store), startReplica(store)]);
    started.push(a, b, c);
  }, 400_000);

  afterAll(async () => {
    await Promise.all(started.map((replica) => replica.stop('SIGKILL')));
  });

  afterEach((context) => {
    // What the replicas logged, when a test fails: the cause is usually there.
    if (context.task.result?.state === 'fail') for (const replica of started) console.log(replica.output());
  });

  it('answers on the stream held by A every message POSTed to B and C', async () => {
    const stream = await openSseStream(`${a.url}/sse`, ONE);
    const post = (url: string, body: string) =>
      httpRequest(`${url}/messages?sessionId=${stream.sessionId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ONE },
        body,
      });
    expect((await post(b.url, JSON.stringify(INITIALIZE_BODY))).status).toBe(202);
    await stream.waitForEvent(
      (event) => event.event === 'message' && (JSON.parse(event.data) as { id: number }).id === 1,
      15_000,
    );
    const accepted = await Promise.all([
      post(b.url, echoCall(2, 'via B')),
      post(c.url, echoCall(3, 'via C')),
      post(a.url, echoCall(4, 'via A')),
      post(b.url, rpcBody(5, 'tools/list')),
    ]);
    expect(accepted.map((answer) => [answer.status, answer.text])).toEqual(Array(4).fill([202, 'Accepted']));
    await waitUntil(() => stream.events().filter((event) => event.event === 'message').length === 5, 'five answers', {
      timeoutMs: 15_000,
    });
    const answers = stream
      .events()
      .filter((event) => event.event === 'message')
      .map((event) => JSON.parse(event.data) as { id: number; result: Record<string, unknown> });
    expect(answers.map((answer) => answer.id).sort()).toEqual([1, 2, 3, 4, 5]);
    const byId = new Map(answers.map((answer) => [answer.id, answer.result]));
    expect(byId.get(2)?.['structuredContent']).toEqual({ message: 'via B' });
    expect(byId.get(3)?.['structuredContent']).toEqual({ message: 'via C' });
    expect(byId.get(4)?.['structuredContent']).toEqual({ message: 'via A' });
    expect((byId.get(5)?.['tools'] as unknown[]).length).toBe(4);
    stream.close();
  });

  it('opens a Streamable HTTP session on A and answers its calls on B and C in the POST itself', async () => {
    const session = await initialize(a.url, ONE);
    const viaB = await sessionPost(b.url, session, echoCall(2, 'on B'));
    expect(viaB.status).toBe(200);
    expect(viaB.headers['content-type']).toBe('text/event-stream');
    expect(messagesOf(viaB)).toEqual([
      {
        jsonrpc: '2.0',
        id: 2,
        result: { content: [{ type: 'text', text: '{"message":"on B"}' }], structuredContent: { message: 'on B' } },
      },
    ]);
    // Progress notifications stream from A through Redis, then the result.
    const slow = await sessionPost(
      c.url,
      session,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 100, steps: 2 }, _meta: { progressToken: 'p' } },
      }),
    );
    const messages = messagesOf(slow) as { method?: string; id?: number; result?: unknown }[];
    expect(messages.filter((message) => message.method === 'notifications/progress').length).toBe(2);
    expect(messages.at(-1)).toEqual({
      jsonrpc: '2.0',
      id: 3,
      result: { content: [{ type: 'text', text: '{"waited":100}' }], structuredContent: { waited: 100 } },
    });
    // A GET (the standalone stream) cannot move to another replica: 405, which clients accept.
    const get = await httpRequest(`${b.url}/mcp`, {
      headers: { accept: 'text/event-stream', ...ONE, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(get.status).toBe(405);
    // DELETE through B ends the session on A, for every replica.
    const deleted = await httpRequest(`${b.url}/mcp`, {
      method: 'DELETE',
      headers: { ...ONE, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(deleted.status).toBe(200);
    await waitUntil(
      async () => (await sessionPost(c.url, session, echoCall(4, 'gone'))).status === 404,
      'the deleted session to be unknown on C',
    );
  });

  it('refuses another identity on every replica, as locally (404, existence not revealed)', async () => {
    const session = await initialize(a.url, ONE);
    for (const url of [a.url, b.url]) {
      const answer = await sessionPost(url, session, echoCall(2, 'not mine'), TWO);
      expect(answer.status).toBe(404);
      expect(answer.json).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32005, message: 'Session not found' } });
    }
    const stream = await openSseStream(`${a.url}/sse`, ONE);
    const foreign = await httpRequest(`${c.url}/messages?sessionId=${stream.sessionId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...TWO },
      body: echoCall(2, 'not mine'),
    });
    expect(foreign.status).toBe(404);
    stream.close();
  });

  it('has the owner check the forwarded identity too (a forged request on its channel gets 404)', async () => {
    const session = await initialize(a.url, ONE);
    const owner = ((await httpRequest(`${a.url}/health`)).json as { replica: string }).replica;
    const listener = new Redis(REDIS_URL);
    const publisher = new Redis(REDIS_URL);
    try {
      const answers: unknown[] = [];
      listener.on('message', (_channel: string, text: string) => answers.push(JSON.parse(text)));
      await listener.subscribe(`${prefix}replica:test-listener`);
      const forged = (identity: string, rid: string) =>
        JSON.stringify({
          t: 'req',
          rid,
          from: 'test-listener',
          sid: session,
          kind: 'streamable-http',
          method: 'POST',
          url: '/mcp',
          headers: { ...MCP_POST_HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
          identity: { id: identity, authenticated: true },
          body: JSON.parse(echoCall(2, 'forged')) as unknown,
        });
      expect(await publisher.publish(`${prefix}replica:${owner}`, forged('key:00000000', 'forged'))).toBe(1);
      await waitUntil(() => answers.length === 3, 'the owner to answer');
      const notFound = JSON.stringify({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32005, message: 'Session not found' },
      });
      expect(answers).toEqual([
        { t: 'head', rid: 'forged', status: 404, headers: { 'content-type': 'application/json; charset=utf-8' } },
        { t: 'data', rid: 'forged', chunk: Buffer.from(notFound).toString('base64') },
        { t: 'end', rid: 'forged' },
      ]);
      // The same request with the session's own identity is run (the check above can tell them apart).
      const own = `key:${createHash('sha256').update(KEY_ONE).digest('hex').slice(0, 8)}`;
      await publisher.publish(`${prefix}replica:${owner}`, forged(own, 'genuine'));
      await waitUntil(
        () =>
          answers.some(
            (answer) =>
              (answer as { t: string; rid: string }).t === 'end' && (answer as { rid: string }).rid === 'genuine',
          ),
        'the genuine answer',
      );
      expect(answers[3]).toMatchObject({ t: 'head', rid: 'genuine', status: 200 });
    } finally {
      listener.disconnect();
      publisher.disconnect();
    }
  });

  it('answers a clear JSON-RPC error when the owner does not answer in time (MCP_FORWARD_TIMEOUT_MS)', async () => {
    const session = await initialize(c.url, ONE);
    // A stopped process keeps its Redis connections open but reads nothing: the forward waits.
    c.child.kill('SIGSTOP');
    try {
      const started = Date.now();
      const answer = await sessionPost(b.url, session, echoCall(2, 'late'));
      expect(answer.status).toBe(504);
      expect(answer.json).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: {
          code: -32020,
          message: `The replica that holds this session did not answer within ${FORWARD_TIMEOUT_MS} ms (MCP_FORWARD_TIMEOUT_MS): retry`,
        },
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(FORWARD_TIMEOUT_MS);
    } finally {
      c.child.kill('SIGCONT');
    }
    // Once it runs again, the session works through B again.
    await waitUntil(async () => (await sessionPost(b.url, session, echoCall(3, 'back'))).status === 200, 'C back');
  });

  it('keeps a replica that is shutting down subscribed until the answers it forwards have arrived', async () => {
    // D receives a call of A's session, forwards it, and gets SIGTERM while A runs it: D must wait
    // for the answer (within its grace) before it lets go of Redis, or the call ran on A for nothing
    // and the client, without an answer, runs it again.
    const d = await startReplica(store);
    started.push(d);
    const session = await initialize(a.url, ONE);
    const slowCall = rpcBody(7, 'tools/call', { name: 'slow', arguments: { ms: 1500, steps: 1, tag: 'drain' } });
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = httpRequestRaw(`${d.url}/mcp`, {
        method: 'POST',
        headers: { ...MCP_POST_HEADERS, ...ONE, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
      });
      request.on('response', (response) => {
        // A has taken the call (its answer has begun): D is told to stop now.
        d.child.kill('SIGTERM');
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(slowCall);
    });
    const { status, text } = await answer;
    expect(status).toBe(200);
    expect(parseSseEvents(text).map((event) => JSON.parse(event.data) as unknown)).toContainEqual({
      jsonrpc: '2.0',
      id: 7,
      result: { content: [{ type: 'text', text: '{"waited":1500}' }], structuredContent: { waited: 1500 } },
    });
    // and it exits cleanly once that answer is out
    const exit = await new Promise<number | null>((resolve) => {
      if (d.child.exitCode !== null) resolve(d.child.exitCode);
      else d.child.once('exit', (code) => resolve(code));
    });
    expect(exit).toBe(0);
  });

  it('takes the sessions of a killed replica with it: 404 elsewhere, reinitialize works, others unaffected', async () => {
    const onA = await initialize(a.url, ONE);
    const onC = await initialize(c.url, ONE);
    const stream = await openSseStream(`${a.url}/sse`, ONE);
    expect((await sessionPost(b.url, onA, echoCall(2, 'before'))).status).toBe(200);
    await a.stop('SIGKILL');
    // Within three heartbeats (1 s each) the session is gone for everyone: 404 tells the client
    // to initialize again (the spec's rule for an unknown session).
    await waitUntil(async () => (await sessionPost(b.url, onA, echoCall(3, 'after'))).status === 404, '404 on B', {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const legacy = await httpRequest(`${b.url}/messages?sessionId=${stream.sessionId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ONE },
      body: echoCall(3, 'after'),
    });
    expect(legacy.status).toBe(404);
    const again = await initialize(b.url, ONE);
    expect(messagesOf(await sessionPost(c.url, again, echoCall(4, 'new')))).toHaveLength(1);
    // C's session never noticed.
    const other = await sessionPost(b.url, onC, echoCall(5, 'still here'));
    expect(other.status).toBe(200);
    expect(messagesOf(other)).toEqual([
      {
        jsonrpc: '2.0',
        id: 5,
        result: {
          content: [{ type: 'text', text: '{"message":"still here"}' }],
          structuredContent: { message: 'still here' },
        },
      },
    ]);
    stream.close();
  });
});

describe('the session store unreachable', () => {
  it('refuses new sessions with 503 while existing ones keep working where they live, and recovers', async () => {
    if (!(await redisReachable(redisAddress.hostname, Number(redisAddress.port || 6379)))) {
      throw new Error(`Redis is not reachable at ${REDIS_URL}: these tests need a real Redis (set REDIS_URL)`);
    }
    const proxy = await startTcpProxy({ host: redisAddress.hostname, port: Number(redisAddress.port || 6379) });
    const store = {
      MCP_SESSION_STORE: `redis://127.0.0.1:${proxy.port}`,
      MCP_SESSION_STORE_PREFIX: `mcp-test-replicas-${randomUUID()}:`,
    };
    const [e, f] = await Promise.all([startReplica(store), startReplica(store)]);
    try {
      const session = await initialize(e.url, ONE);
      expect((await sessionPost(f.url, session, echoCall(2, 'up'))).status).toBe(200);
      await proxy.down();
      const refused = await waitUntil(
        async () =>
          (
            await httpRequest(`${f.url}/mcp`, {
              method: 'POST',
              headers: { ...MCP_POST_HEADERS, ...ONE },
              body: JSON.stringify(INITIALIZE_BODY),
            })
          ).status === 503,
        'new sessions refused',
        { timeoutMs: 10_000, intervalMs: 100 },
      ).then(() =>
        httpRequest(`${f.url}/mcp`, {
          method: 'POST',
          headers: { ...MCP_POST_HEADERS, ...ONE },
          body: JSON.stringify(INITIALIZE_BODY),
        }),
      );
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('2');
      expect(refused.json).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: {
          code: -32023,
          message: 'Session store unavailable (MCP_SESSION_STORE): no new session can be opened; retry shortly',
        },
      });
      // On the replica that holds it, the session needs no Redis.
      expect(messagesOf(await sessionPost(e.url, session, echoCall(3, 'local')))).toHaveLength(1);
      // Elsewhere it cannot be found without Redis: 503 (retry), not 404 (which would end it).
      const elsewhere = await sessionPost(f.url, session, echoCall(4, 'remote'));
      expect(elsewhere.status).toBe(503);
      expect((elsewhere.json as { error: { code: number } }).error.code).toBe(-32023);
      await proxy.up();
      await waitUntil(
        async () => (await sessionPost(f.url, session, echoCall(5, 'again'))).status === 200,
        'recovery',
        {
          timeoutMs: 15_000,
          intervalMs: 100,
        },
      );
      // New sessions again once each replica's heartbeat went through.
      await waitUntil(async () => (await storeState(e)) === 'up' && (await storeState(f)) === 'up', 'store up', {
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      const fresh = await initialize(f.url, ONE);
      expect((await sessionPost(e.url, fresh, echoCall(6, 'fresh'))).status).toBe(200);
    } finally {
      await Promise.all([e.stop('SIGKILL'), f.stop('SIGKILL')]);
      await proxy.down();
    }
  }, 400_000);
});

describe('a stateless server', () => {
  it('has no sessions to share: MCP_SESSION_STORE is not used', async () => {
    // Port 1: nothing listens there, a store in use would report itself down.
    const service = await startService(echoService, {
      env: { MCP_STATELESS: 'true', MCP_SESSION_STORE: 'redis://127.0.0.1:1' },
    });
    try {
      expect(service.app.mcp.cluster).toBeUndefined();
      const health = await httpRequest(`${service.url}/health`);
      expect(health.status).toBe(200);
      expect(health.json).not.toHaveProperty('session_store');
      const answer = await httpRequest(`${service.url}/mcp`, {
        method: 'POST',
        headers: { ...MCP_POST_HEADERS },
        body: echoCall(1, 'stateless'),
      });
      expect(answer.status).toBe(200);
    } finally {
      await service.close();
    }
  });
});

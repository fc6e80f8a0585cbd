import { Agent, request } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ServiceProcess, startServiceProcess, waitUntil } from '../packages/testing/src/index.js';
import { DATABASE_URL, POSTGRES_ENTRY, report, requirePostgres, START_TIMEOUT_MS } from './helpers/settings.js';
import { inBatches, post, type RpcMessage, SseParser, SseSession, type StreamEnd } from './helpers/sse-client.js';

/**
 * Issue 16: SIGTERM with 50 open streams (25 legacy SSE, 25 Streamable HTTP GET streams) and calls
 * in flight on every transport. What counts, per call:
 * - answered: its JSON-RPC answer (the tool's result) reached the client (on the session's stream,
 *   in the POST's own SSE answer, or as the /rpc body), before the stream ended;
 * - failed cleanly: a JSON-RPC error or an `isError` result with a message reached the client, or
 *   the request was refused with a JSON-RPC body (503 while shutting down);
 * anything else (a stream or connection that ends without the call's answer, a reset, a body that
 * is not JSON-RPC) fails the test. Every stream must end in an orderly way (FIN, no reset), and the
 * process must exit with code 0 within 10 s of the signal.
 */
const SSE_STREAMS = 25;
const HTTP_STREAMS = 25;
const SLEEP_S = 2;
const SLOW_SQL = `SELECT 1 AS slept FROM pg_sleep(${SLEEP_S})`;
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

type Outcome = 'answered' | 'failed-cleanly' | `lost: ${string}`;

function outcomeOf(message: RpcMessage | undefined, why = 'no answer'): Outcome {
  if (!message) return `lost: ${why}`;
  if (message.error) return typeof message.error.message === 'string' ? 'failed-cleanly' : 'lost: malformed error';
  const result = message.result as { isError?: boolean; structuredContent?: { rows?: unknown[] } } | undefined;
  if (result?.isError) return 'failed-cleanly';
  const rows = JSON.stringify(result?.structuredContent?.rows);
  return rows === '[{"slept":1}]' ? 'answered' : `lost: wrong result ${JSON.stringify(result).slice(0, 300)}`;
}

/** A Streamable HTTP session with its GET stream open. */
class HttpSession {
  id = '';
  ended: StreamEnd | undefined;
  constructor(private readonly url: string) {}
  async open(agent: Agent): Promise<void> {
    const init = await post(
      `${this.url}/mcp`,
      {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'soak', version: '1' } },
      },
      agent,
      HEADERS,
    );
    this.id = String(init.headers['mcp-session-id'] ?? '');
    if (!this.id) throw new Error(`initialize answered ${init.status} without a session`);
    await post(`${this.url}/mcp`, { jsonrpc: '2.0', method: 'notifications/initialized' }, agent, this.headers());
    await new Promise<void>((resolve, reject) => {
      const req = request(
        `${this.url}/mcp`,
        { agent: false, headers: { accept: 'text/event-stream', ...this.headers() } },
        (res) => {
          if (res.statusCode !== 200) reject(new Error(`GET /mcp answered ${res.statusCode}`));
          res.resume();
          res.on('end', () => (this.ended ??= { how: 'end' }));
          res.on('error', (error: NodeJS.ErrnoException) => (this.ended ??= { how: 'error', code: error.code ?? '' }));
          resolve();
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => (this.ended ??= { how: 'error', code: error.code ?? '' }));
      req.end();
    });
  }
  headers(): Record<string, string> {
    return { ...HEADERS, 'mcp-session-id': this.id, 'mcp-protocol-version': '2025-11-25' };
  }
  /**
   * A tools/call on the session: resolves once the answer's headers arrived (the call is running),
   * with the outcome to come from its SSE body.
   */
  startCall(id: number, agent: Agent): Promise<{ outcome: Promise<Outcome> }> {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'execute_sql', arguments: { sql: SLOW_SQL } },
    });
    return new Promise((started, reject) => {
      const req = request(`${this.url}/mcp`, { method: 'POST', agent, headers: this.headers() }, (res) => {
        let answer: RpcMessage | undefined;
        const parser = new SseParser((event) => (answer = JSON.parse(event.data) as RpcMessage));
        res.setEncoding('utf8');
        // Wrapped: a promise resolved with a promise would wait for the answer.
        started({
          outcome: new Promise<Outcome>((done) => {
            if (res.statusCode !== 200) {
              let text = '';
              res.on('data', (chunk: string) => (text += chunk));
              res.on('end', () => done(outcomeOf(JSON.parse(text) as RpcMessage)));
              return;
            }
            res.on('data', (chunk: string) => parser.feed(chunk));
            res.on('end', () => done(outcomeOf(answer, 'the answer stream ended without it')));
            res.on('error', (error: NodeJS.ErrnoException) => done(`lost: ${error.code ?? 'reset'}`));
          }),
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

describe('SIGTERM with 50 open streams and calls in flight', () => {
  let svc: ServiceProcess;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });

  beforeAll(async () => {
    await requirePostgres();
    svc = await startServiceProcess(POSTGRES_ENTRY, {
      readyTimeoutMs: START_TIMEOUT_MS,
      env: {
        DATABASE_URL,
        // pg_sleep is a built-in that read_only mode refuses unless the operator allows it.
        POSTGRES_ALLOWED_FUNCTIONS: 'pg_sleep',
        POSTGRES_POOL_MAX: '100',
        MCP_SESSION_RATE_LIMIT: '0',
        MCP_RATE_LIMIT: '0',
        MCP_SSE_HEARTBEAT_MS: '1000',
      },
    });
  });

  afterAll(async () => {
    agent.destroy();
    await svc?.stop('SIGKILL');
  });

  it('answers or cleanly fails every call, ends every stream in order, and exits 0 within 10 s', async () => {
    const sse = Array.from({ length: SSE_STREAMS }, () => new SseSession(svc.url, agent));
    await inBatches(sse, 25, async (session) => {
      await session.open();
      await session.initialize();
    });
    const http = Array.from({ length: HTTP_STREAMS }, () => new HttpSession(svc.url));
    await inBatches(http, 25, (session) => session.open(agent));

    // A slow call on every session, and 10 on /rpc: each is running once its request was accepted
    // (202 for /messages, the answer's headers for /mcp; /rpc answers only at the end, so its
    // requests are sent first and given the time the others take to start).
    const rpcCalls = Array.from({ length: 10 }, (_, i) =>
      post(
        `${svc.url}/rpc`,
        { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'execute_sql', arguments: { sql: SLOW_SQL } } },
        agent,
      ).then(
        (answer) => outcomeOf(JSON.parse(answer.text) as RpcMessage),
        (error: NodeJS.ErrnoException) => `lost: ${error.code ?? 'error'}` as Outcome,
      ),
    );
    const sseCalls = await Promise.all(
      sse.map(async (session) => {
        const id = session.reserveId();
        const answered = session.answerOf(id, 20_000).then(
          (message) => outcomeOf(message),
          () => outcomeOf(undefined, session.ended ? `stream ended (${session.ended.how})` : 'no answer'),
        );
        const status = await session.send({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'execute_sql', arguments: { sql: SLOW_SQL } },
        });
        expect(status).toBe(202);
        return { outcome: answered };
      }),
    );
    const httpCalls = await Promise.all(http.map((session, i) => session.startCall(100 + i, agent)));

    // When each outcome arrived: all of them after the signal, or the calls were not in flight.
    const settledAt: number[] = [];
    const timed = (outcome: Promise<Outcome>) =>
      outcome.then((value) => {
        settledAt.push(performance.now());
        return value;
      });
    const rpcTimed = rpcCalls.map(timed);
    const sseTimed = sseCalls.map((call) => timed(call.outcome));
    const httpTimed = httpCalls.map((call) => timed(call.outcome));
    const signalled = performance.now();
    const exit = svc.stop('SIGTERM');
    // A request that arrives once shutdown has begun is refused before any work: a JSON-RPC 503, or
    // the connection is refused or reset (the port closing); a client may retry it elsewhere.
    await waitUntil(() => svc.output().includes('"msg":"shutting down"'), 'the shutdown log line');
    const late = await post(`${svc.url}/rpc`, { jsonrpc: '2.0', id: 'late', method: 'ping' }, new Agent()).then(
      (answer) => answer.status,
      (error: NodeJS.ErrnoException) => error.code,
    );
    const outcomes = {
      sse: await Promise.all(sseTimed),
      http: await Promise.all(httpTimed),
      rpc: await Promise.all(rpcTimed),
    };
    const exited = await exit;
    const exitMs = performance.now() - signalled;

    // Streams: every one ended, in order (the client saw the end of the response, no reset).
    const streamEnds = [...sse.map((session) => session.ended), ...http.map((session) => session.ended)];
    const all = [...outcomes.sse, ...outcomes.http, ...outcomes.rpc];
    const count = (what: Outcome) => all.filter((outcome) => outcome === what).length;
    report('sigterm exit', `${exitMs.toFixed(0)} ms, code ${exited.code}`);
    report(
      'sigterm calls',
      `${all.length} in flight: ${count('answered')} answered, ${count('failed-cleanly')} failed cleanly`,
    );
    report('sigterm late request', String(late));

    expect(all.filter((outcome) => outcome !== 'answered' && outcome !== 'failed-cleanly')).toEqual([]);
    expect(all).toHaveLength(SSE_STREAMS + HTTP_STREAMS + 10);
    expect(settledAt.filter((at) => at < signalled)).toEqual([]);
    expect(streamEnds.filter((end) => end?.how !== 'end')).toEqual([]);
    expect([503, 'ECONNREFUSED', 'ECONNRESET']).toContain(late);
    expect(exited).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(10_000);
  });
});

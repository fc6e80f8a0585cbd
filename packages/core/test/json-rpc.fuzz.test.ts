/**
 * Property-based fuzzing of the JSON-RPC surface (POST /rpc, POST /mcp with and without a session,
 * POST /messages?sessionId=, the /mcp/v1 aliases) against the echo service run as a real process,
 * with the fast lane on and off. Generated: single messages and batches of every method name, odd
 * ids (floats, huge, null, objects, raw numbers past double range), any params, deep and huge
 * values, truncated and non-UTF-8 bodies, wrong content types and Accept headers. Properties: each
 * request is answered in time; a 4xx or a JSON answer is a well-formed JSON-RPC message whose
 * errors carry a message; every 5xx left an error log line with a cause; afterwards the process is
 * alive, /health is 200 and both sessions still answer. FUZZ_RUNS / FUZZ_SEED: see the README.
 */
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  errorsWithCause,
  fuzzSettings,
  HOSTILE_STRINGS,
  INITIALIZE_BODY,
  MCP_POST_HEADERS,
  openSseStream,
  parseSseEvents,
  replayHint,
  seedFor,
  type ServiceProcess,
  type SseStream,
  startServiceProcess,
} from '../../testing/src/index.js';

const FILE = 'packages/core/test/json-rpc.fuzz.test.ts';
const fixture = fileURLToPath(new URL('./fixtures/run-echo.ts', import.meta.url));
const settings = fuzzSettings(120);
const REQUEST_TIMEOUT_MS = 10_000;
const BODY_LIMIT = 64 * 1024;

const METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'logging/setLevel',
  'completion/complete',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'tasks/get',
  'tasks/list',
  'tasks/result',
  'tasks/cancel',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/message',
  'notifications/roots/list_changed',
  'notifications/tools/list_changed',
  'rpc.discover',
  'TOOLS/CALL',
  'tools/call/',
  ' tools/list',
  '__proto__',
  'constructor',
  'toString',
  '',
] as const;

type Target =
  | 'rpc'
  | 'v1-call'
  | 'mcp-new'
  | 'mcp-session'
  | 'mcp-unknown-session'
  | 'messages'
  | 'messages-unknown'
  | 'messages-missing';

const TARGETS: readonly Target[] = [
  'rpc',
  'v1-call',
  'mcp-new',
  'mcp-session',
  'mcp-unknown-session',
  'messages',
  'messages-unknown',
  'messages-missing',
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/json-patch+json',
  'application/vnd.api+json',
  'text/plain',
  'text/json',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  'application/json;;;',
  '',
  undefined,
];

const ACCEPTS = [
  'application/json, text/event-stream',
  'text/event-stream, application/json;q=0.5',
  'application/json',
  'text/event-stream',
  '*/*',
  'text/html',
  undefined,
];

const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2024-11-05', '1999-01-01', 'x'.repeat(300), undefined];

/** Ids, some only expressible as raw JSON text (past double range, -0, exponent forms). */
const RAW_IDS = ['1e400', '12345678901234567890', '-0', '0.1e-10', '1.5', '-9007199254740993'];
const id: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 30 }),
  fc.constantFrom(...HOSTILE_STRINGS.slice(0, 40)),
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom({}, [], [1], { a: 1 }),
);

const deep = fc.integer({ min: 1, max: 800 }).map((depth) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? [value] : { a: value };
  return value;
});

function toolCallParams(): fc.Arbitrary<unknown> {
  return fc.record(
    {
      name: fc.constantFrom('echo', 'slow', 'fail', 'write_thing', 'get_pixel', 'nope', '', '__proto__'),
      arguments: fc.oneof(
        fc.record({ message: fc.oneof(fc.string(), fc.constantFrom(...HOSTILE_STRINGS)) }),
        fc.record({ ms: fc.integer({ min: 0, max: 50 }), steps: fc.integer({ min: 1, max: 3 }) }),
        fc.record({ kind: fc.constantFrom('service', 'crash', 'other') }),
        fc.jsonValue({ maxDepth: 3 }),
      ),
      _meta: fc.record({ progressToken: id }, { requiredKeys: [] }),
    },
    { requiredKeys: ['name'] },
  );
}

const params: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: toolCallParams() },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deep },
  {
    weight: 1,
    arbitrary: fc.record({
      protocolVersion: fc.constantFrom(...PROTOCOL_VERSIONS.filter((v) => v !== undefined), 1, null),
      capabilities: fc.jsonValue({ maxDepth: 2 }),
      clientInfo: fc.jsonValue({ maxDepth: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ requestId: id, reason: fc.string() }) },
  { weight: 1, arbitrary: fc.record({ level: fc.constantFrom('debug', 'info', 'emergency', 'nope', '') }) },
);

const jsonrpc = fc.oneof({ weight: 10, arbitrary: fc.constant('2.0') }, fc.constantFrom('1.0', 2, null, ''));
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...METHODS) },
  fc.string({ maxLength: 20 }),
  fc.integer(),
);

/** One JSON-RPC-ish message as text: requests, notifications, responses, and shapes that are none. */
const message: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 6, arbitrary: fc.record({ jsonrpc, id, method, params }, { requiredKeys: ['jsonrpc', 'id', 'method'] }) },
    { weight: 2, arbitrary: fc.record({ jsonrpc, method, params }, { requiredKeys: ['jsonrpc', 'method'] }) },
    { weight: 1, arbitrary: fc.record({ jsonrpc, id, result: fc.jsonValue({ maxDepth: 1 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({ jsonrpc, id, error: fc.record({ code: fc.integer(), message: fc.string() }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record(
        {
          jsonrpc,
          id,
          method,
          params,
          result: fc.jsonValue({ maxDepth: 1 }),
          error: fc.record({ code: fc.integer(), message: fc.string() }),
        },
        { requiredKeys: [] },
      ),
    },
  )
  .chain((value) =>
    fc.option(fc.constantFrom(...RAW_IDS), { freq: 5 }).map((rawId) => {
      if (rawId === null || !('id' in value)) return JSON.stringify(value);
      return JSON.stringify({ ...value, id: '__RAW_ID__' }).replace('"__RAW_ID__"', rawId);
    }),
  );

const body: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 8, arbitrary: message.map((text) => Buffer.from(text)) },
  {
    weight: 3,
    arbitrary: fc.array(message, { minLength: 0, maxLength: 6 }).map((texts) => Buffer.from(`[${texts.join(',')}]`)),
  },
  { weight: 1, arbitrary: message.chain((text) => fc.nat(text.length).map((n) => Buffer.from(text.slice(0, n)))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
  {
    // Not UTF-8: a valid message with invalid bytes inside a string, or a UTF-16 body with a BOM.
    weight: 1,
    arbitrary: fc.constantFrom(
      Buffer.concat([
        Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"'),
        Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80]),
        Buffer.from('"}}}'),
      ]),
      Buffer.from(`\ufeff${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })}`, 'utf16le'),
      Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping"}')]),
      Buffer.from([0x80, 0x81, 0x82]),
    ),
  },
  {
    // Deep nesting as text (past what a recursive parser or serializer survives) and huge values.
    weight: 1,
    arbitrary: fc.constantFrom(
      Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"ping","params":${'['.repeat(20_000)}${']'.repeat(20_000)}}`),
      Buffer.from(`${'['.repeat(30_000)}${']'.repeat(30_000)}`),
      Buffer.from(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'echo', arguments: { message: 'x'.repeat(BODY_LIMIT - 200) } },
        }),
      ),
      Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { x: 'y'.repeat(BODY_LIMIT * 2) } })),
      Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { __proto__: { polluted: true } } })),
      Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"constructor":{"prototype":{"polluted":true}}}}'),
      Buffer.from(
        `[${Array.from({ length: 500 }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"ping"}`).join(',')}]`,
      ),
    ),
  },
);

interface FuzzRequest {
  target: Target;
  body: Buffer;
  contentType: string | undefined;
  accept: string | undefined;
  protocolVersion: string | undefined;
}

const request: fc.Arbitrary<FuzzRequest> = fc.record({
  target: fc.constantFrom(...TARGETS),
  body,
  contentType: fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, fc.constantFrom(...CONTENT_TYPES)),
  accept: fc.oneof({ weight: 6, arbitrary: fc.constant(MCP_POST_HEADERS.accept) }, fc.constantFrom(...ACCEPTS)),
  protocolVersion: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, fc.constantFrom(...PROTOCOL_VERSIONS)),
});

/** What is wrong with one JSON-RPC message of an answer, or undefined. */
function messageProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const m = value as Record<string, unknown>;
  if (m['jsonrpc'] !== '2.0') return 'jsonrpc is not "2.0"';
  if ('method' in m) return undefined; // A request or notification from the server (progress, logging).
  const hasResult = 'result' in m;
  const hasError = 'error' in m;
  if (hasResult === hasError) return 'neither or both of result and error';
  if (hasError) {
    const error = m['error'] as { code?: unknown; message?: unknown } | null;
    if (typeof error?.code !== 'number' || !Number.isInteger(error.code)) return 'error without an integer code';
    if (typeof error.message !== 'string' || error.message.trim() === '') return 'error without a message';
  }
  return undefined;
}

function payloadProblem(payload: unknown): string | undefined {
  if (Array.isArray(payload)) {
    if (payload.length === 0) return 'an empty batch answer';
    for (const item of payload) {
      const problem = messageProblem(item);
      if (problem !== undefined) return `batch item: ${problem}`;
    }
    return undefined;
  }
  return messageProblem(payload);
}

describe.each([
  ['on', 'true'],
  ['off', 'false'],
])('the JSON-RPC surface under fuzzing, fast lane %s', (_label, fastLane) => {
  let svc: ServiceProcess;
  let sessionId: string;
  let stream: SseStream;
  let fiveHundreds = 0;
  const statuses = new Map<number, number>();
  let slowest = { ms: 0, what: '' };

  beforeAll(async () => {
    svc = await startServiceProcess(fixture, {
      env: {
        MCP_FAST_LANE: fastLane,
        MCP_RATE_LIMIT: '0',
        MCP_SESSION_RATE_LIMIT: '0',
        MCP_MAX_SESSIONS: '100000',
        MCP_MAX_SESSIONS_PER_IDENTITY: '100000',
        MCP_BODY_LIMIT: String(BODY_LIMIT),
        MCP_TOOL_TIMEOUT_MS: '3000',
        MCP_TOOLSETS: 'all',
      },
    });
    const init = await fetch(new URL('/mcp', svc.url), {
      method: 'POST',
      headers: MCP_POST_HEADERS,
      body: JSON.stringify(INITIALIZE_BODY),
    });
    expect(init.status).toBe(200);
    await init.text();
    sessionId = init.headers.get('mcp-session-id') ?? '';
    expect(sessionId).not.toBe('');
    const initialized = await fetch(new URL('/mcp', svc.url), {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    expect(initialized.status).toBe(202);
    stream = await openSseStream(new URL('/sse', svc.url).toString());
  });

  afterAll(async () => {
    stream.close();
    await svc.stop('SIGKILL');
  });

  function urlOf(target: Target): URL {
    switch (target) {
      case 'rpc':
        return new URL('/rpc', svc.url);
      case 'v1-call':
        return new URL('/mcp/v1/tools/call', svc.url);
      case 'messages':
        return new URL(`/messages?sessionId=${stream.sessionId}`, svc.url);
      case 'messages-unknown':
        return new URL('/messages?sessionId=00000000-0000-0000-0000-000000000000', svc.url);
      case 'messages-missing':
        return new URL('/messages', svc.url);
      default:
        return new URL('/mcp', svc.url);
    }
  }

  async function send(req: FuzzRequest): Promise<void> {
    const headers: Record<string, string> = {};
    if (req.contentType !== undefined) headers['content-type'] = req.contentType;
    if (req.target.startsWith('mcp') && req.accept !== undefined) headers['accept'] = req.accept;
    if (req.protocolVersion !== undefined) headers['mcp-protocol-version'] = req.protocolVersion;
    if (req.target === 'mcp-session') headers['mcp-session-id'] = sessionId;
    if (req.target === 'mcp-unknown-session') headers['mcp-session-id'] = 'no-such-session';
    const what = `${req.target} ${JSON.stringify(headers)} ${req.body.toString('utf8').slice(0, 300)} (${req.body.length} bytes)`;
    const started = performance.now();
    const response = await fetch(urlOf(req.target), {
      method: 'POST',
      headers,
      body: req.body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    }).catch((error: unknown) => {
      throw new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms or connection failed: ${String(error)}: ${what}`);
    });
    const text = await response.text();
    const ms = performance.now() - started;
    if (ms > slowest.ms) slowest = { ms, what: what.slice(0, 160) };
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    if (response.status >= 500) fiveHundreds += 1;
    if (response.status === 202 || (response.status === 200 && text === '')) return;
    const type = response.headers.get('content-type') ?? '';
    let payloads: unknown[];
    try {
      payloads = type.startsWith('text/event-stream')
        ? parseSseEvents(text).map((event) => JSON.parse(event.data) as unknown)
        : [JSON.parse(text) as unknown];
    } catch {
      throw new Error(`answer ${response.status} (${type}) is not JSON: ${text.slice(0, 300)} for ${what}`);
    }
    for (const payload of payloads) {
      const problem = payloadProblem(payload);
      if (problem !== undefined) {
        throw new Error(`answer ${response.status}: ${problem}: ${JSON.stringify(payload).slice(0, 300)} for ${what}`);
      }
    }
  }

  it('answers every request in time with well-formed JSON-RPC, and stays healthy', async () => {
    const seed = seedFor(settings.seed, `json-rpc fast lane ${fastLane}`);
    try {
      await fc.assert(
        fc.asyncProperty(request, (req) => send(req)),
        { numRuns: settings.runs, seed, endOnFailure: !settings.shrink },
      );
    } catch (error) {
      throw new Error(`${replayHint(settings, FILE)} (property seed ${seed})\n${String(error)}`, { cause: error });
    }

    expect(svc.child.exitCode).toBe(null);
    const health = await fetch(new URL('/health', svc.url));
    expect(health.status).toBe(200);
    // Both sessions still work.
    const call = await fetch(new URL('/mcp', svc.url), {
      method: 'POST',
      headers: { ...MCP_POST_HEADERS, 'mcp-session-id': sessionId },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'after',
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: 'still here' } },
      }),
    });
    expect(call.status).toBe(200);
    expect(await call.text()).toContain('still here');
    const ping = await fetch(new URL(`/messages?sessionId=${stream.sessionId}`, svc.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'sse-after', method: 'ping' }),
    });
    expect(ping.status).toBe(202);
    await stream.waitForEvent((event) => event.data.includes('"sse-after"'), 5000);
    // Every message the legacy stream carried is well-formed.
    for (const event of stream.events().filter((e) => e.event !== 'endpoint')) {
      expect(payloadProblem(JSON.parse(event.data)), event.data.slice(0, 300)).toBe(undefined);
    }
    expect(errorsWithCause(svc.output()).length).toBeGreaterThanOrEqual(fiveHundreds);
    console.info(
      `json-rpc fuzz (fast lane ${fastLane}, seed ${settings.seed}, ${settings.runs} runs): statuses ${JSON.stringify(Object.fromEntries(statuses))}; slowest ${slowest.ms.toFixed(0)} ms: ${slowest.what}`,
    );
  }, 180_000);
});

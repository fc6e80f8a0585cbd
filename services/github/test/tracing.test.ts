/**
 * OpenTelemetry tracing of the GitHub service as a process (the core's tracing is tested in depth in
 * services/postgres/test/tracing.test.ts), against a local OTLP/HTTP receiver and the GitHub
 * stand-in: Octokit's requests go out through Node's fetch (undici), so each is a CLIENT span under
 * the tool call's span, on every transport; the path and ref asked for (the tool's arguments, in the
 * request's URL) and the GitHub token (its Authorization header) are not exported.
 */
import { randomBytes } from 'node:crypto';

import {
  connectClient,
  okToolSpanAttributes,
  onlySpan,
  type ReceivedSpan,
  rpc,
  rpcTraceSpans,
  SPAN_KIND,
  startTracedServiceProcess,
  toolAttributesWithoutDuration,
  type TracedServiceProcess,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type RecordedRequest, type StandIn, startGitHubStandIn } from './helpers/github-stand-in.js';

const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;
/** Under a loaded machine a process from source takes a while to start. */
const READY_MS = 90_000;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const ARG_SENTINEL = `otelargsentinel${hex(6)}`;
/** Shaped like a classic token (visible ASCII, no spaces, as the service requires). */
const TOKEN_SENTINEL = `ghp_oteltokensentinel${hex(6)}`;
const KEY_SENTINEL = `otelkeysentinel${hex(6)}`;
const AUTH = { authorization: `Bearer ${KEY_SENTINEL}` };
/** Both arguments carry the sentinel: the path lands in url.path, the ref in url.query. */
const PATH = `traced-${ARG_SENTINEL}.md`;
const REF = `traced-${ARG_SENTINEL}`;
const FILE_TEXT = 'a traced file\n';

const UNDICI = '@opentelemetry/instrumentation-undici';

describe('github traced (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let standIn: StandIn;
  let apiPort: number;
  let proc: TracedServiceProcess;

  beforeAll(async () => {
    standIn = await startGitHubStandIn({ token: TOKEN_SENTINEL });
    apiPort = Number(new URL(standIn.url).port);
    // A file and a branch named after the sentinel, so that the call really reaches GitHub and succeeds.
    const hello = standIn.world.repos.get('octo-org/hello')!;
    hello.files.set(PATH, { kind: 'file', bytes: Buffer.from(FILE_TEXT) });
    hello.branches.push({ name: REF, sha: hello.branches[0]!.sha, protected: false });
    proc = await startTracedServiceProcess(ENTRY, {
      env: {
        GITHUB_TOKEN: TOKEN_SENTINEL,
        GITHUB_API_URL: standIn.url,
        MCP_TOOLSETS: 'all',
        MCP_API_KEYS: KEY_SENTINEL,
      },
      readyTimeoutMs: READY_MS,
    });
  }, READY_MS + 10_000);

  afterAll(async () => {
    await proc?.stop();
    await standIn?.close();
  });

  /** The requests the stand-in received while `run` ran: exactly one, the contents GET with both sentinels. */
  async function oneContentsRequest(run: () => Promise<void>): Promise<RecordedRequest> {
    const before = standIn.requests.length;
    await run();
    const requests = standIn.requests.slice(before);
    expect(requests.map((request) => [request.method, request.rawPath, request.query])).toEqual([
      ['GET', `/repos/octo-org/hello/contents/${PATH}`, { ref: REF }],
    ]);
    expect(requests[0]!.headers.authorization).toBe(`token ${TOKEN_SENTINEL}`);
    return requests[0]!;
  }

  /** What the undici span of a request to the stand-in keeps once the core's exporter has redacted it. */
  function expectUndiciSpan(span: ReceivedSpan, tool: ReceivedSpan, request: RecordedRequest): void {
    expect(span).toMatchObject({
      name: 'GET',
      kind: SPAN_KIND.CLIENT,
      parentSpanId: tool.spanId,
      traceId: tool.traceId,
    });
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'http.request.method_original': 'GET',
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'server.port': apiPort,
      'user_agent.original': request.headers['user-agent'],
      'network.peer.address': '127.0.0.1',
      'network.peer.port': apiPort,
      'network.protocol.version': '1.1',
      'http.response.status_code': 200,
    });
    // Implied by toEqual, but named: the URL (path and query) is where the arguments travel.
    expect(
      Object.keys(span.attributes).filter((key) => /^url\.(full|path|query)$|^http\.(url|target)$/.test(key)),
    ).toEqual([]);
  }

  it('/rpc: continues the caller’s traceparent; the GitHub request is an undici span under the tool span', async () => {
    const traceId = hex(16);
    const callerSpan = hex(8);
    let body: unknown;
    const request = await oneContentsRequest(async () => {
      ({ body } = await rpc(
        proc.url,
        'tools/call',
        { name: 'get_file_contents', arguments: { owner: 'octo-org', repo: 'hello', path: PATH, ref: REF } },
        { headers: { ...AUTH, traceparent: `00-${traceId}-${callerSpan}-01` } },
      ));
    });
    // The sentinel did travel: it is in the answer, so its absence from the export below means something.
    const answer = body as { result: { isError?: boolean; structuredContent: Record<string, unknown> } };
    expect(answer.result.isError).toBeUndefined();
    expect(answer.result.structuredContent).toMatchObject({ type: 'file', path: PATH, ref: REF, content: FILE_TEXT });
    const trace = await rpcTraceSpans(proc.receiver, traceId);
    const server = onlySpan(trace, (span) => span.name === 'POST /rpc', 'request span');
    expect(server).toMatchObject({
      parentSpanId: callerSpan,
      kind: SPAN_KIND.SERVER,
      scope: '@mcp-sse/core',
      service: 'github',
    });
    expect(server.attributes).toEqual({
      'http.request.method': 'POST',
      'http.route': '/rpc',
      'http.response.status_code': 200,
    });
    const tool = onlySpan(trace, (span) => span.name === 'tools/call get_file_contents', 'tool span');
    expect(tool).toMatchObject({ parentSpanId: server.spanId, kind: SPAN_KIND.INTERNAL, status: { code: 0 } });
    expect(toolAttributesWithoutDuration(tool)).toEqual(
      okToolSpanAttributes({ service: 'github', tool: 'get_file_contents', transport: 'rpc' }),
    );
    expectUndiciSpan(
      onlySpan(trace, (span) => span.scope === UNDICI, 'undici span'),
      tool,
      request,
    );
    // Nothing else in the trace: the request, the tool call, its one GitHub request.
    expect(trace).toHaveLength(3);
  });

  it.each([
    ['streamable-http', '/mcp'],
    ['sse', '/messages'],
  ] as const)('%s: the undici span sits under the tool span, under the POST %s request', async (kind, route) => {
    const request = await oneContentsRequest(async () => {
      const client = await connectClient(proc.url, kind, { headers: AUTH });
      try {
        const result = await client.callTool({
          name: 'get_file_contents',
          arguments: { owner: 'octo-org', repo: 'hello', path: PATH, ref: REF },
        });
        expect(result.isError).toBeUndefined();
        expect(result.structuredContent).toMatchObject({ path: PATH, ref: REF, content: FILE_TEXT });
      } finally {
        await client.close();
      }
    });
    const isTool = (span: ReceivedSpan) =>
      span.name === 'tools/call get_file_contents' && span.attributes['mcp.transport'] === kind;
    // The batch may export the tool span before its parent or its child: wait for all three.
    const spans = await proc.receiver.waitFor((all) => {
      const tool = all.find(isTool);
      return (
        tool !== undefined &&
        all.some((span) => span.spanId === tool.parentSpanId) &&
        all.some((span) => span.parentSpanId === tool.spanId)
      );
    });
    const tool = onlySpan(spans, isTool, `${kind} tool span`);
    const server = onlySpan(spans, (span) => span.spanId === tool.parentSpanId, 'parent');
    expect(server).toMatchObject({
      name: `POST ${route}`,
      kind: SPAN_KIND.SERVER,
      parentSpanId: undefined,
      traceId: tool.traceId,
    });
    expect(toolAttributesWithoutDuration(tool)).toEqual(
      okToolSpanAttributes({ service: 'github', tool: 'get_file_contents', transport: kind }),
    );
    expectUndiciSpan(
      onlySpan(spans, (span) => span.parentSpanId === tool.spanId, 'child of the tool span'),
      tool,
      request,
    );
  });

  it('exports no argument value, no token and no Authorization header, anywhere in the payload', () => {
    const raw = proc.receiver.raw().toString('utf8');
    // Spans were exported (the tests above read them), so the absences below are of something that could be there.
    expect(proc.receiver.spans.filter((span) => span.scope === UNDICI)).toHaveLength(3);
    expect(raw.includes(ARG_SENTINEL)).toBe(false);
    expect(raw.includes(TOKEN_SENTINEL)).toBe(false);
    expect(raw.includes(KEY_SENTINEL)).toBe(false);
    expect(raw.toLowerCase().includes('authorization')).toBe(false);
  });
});

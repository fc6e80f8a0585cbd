/**
 * OpenTelemetry tracing of a real service process (packages/core/src/tracing/), against a local
 * OTLP/HTTP receiver: a SERVER span per request that continues an incoming W3C traceparent, a span
 * per tool call under it on every transport (/rpc, /mcp, /sse), the pg spans of execute_sql under
 * the tool's span, outcomes, and no argument value or API key anywhere in what is exported. With no
 * endpoint set, the process loads no OpenTelemetry module at all (a module probe, not a debug route).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  connectClient,
  MODULE_PROBE,
  modulesLoaded,
  okToolSpanAttributes,
  onlySpan,
  type ReceivedSpan,
  rpc,
  rpcTraceSpans,
  SPAN_KIND,
  startServiceProcess,
  startTracedServiceProcess,
  toolAttributesWithoutDuration,
  type TracedServiceProcess,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type PgBackend, startPgBackend } from './helpers/pg-backend.js';

const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;
/** Under a loaded machine a process from source takes a while to start. */
const READY_MS = 90_000;
const ARG_SENTINEL = `otelargsentinel${randomBytes(6).toString('hex')}`;
const KEY_SENTINEL = `otelkeysentinel${randomBytes(6).toString('hex')}`;
const AUTH = { authorization: `Bearer ${KEY_SENTINEL}` };
const OTEL_MODULE = /@opentelemetry|import-in-the-middle|require-in-the-middle/;

/** A load of an OpenTelemetry module from outside OpenTelemetry (its own internal requires aside). */
function entersOtel(line: string): boolean {
  const [what = '', parent = ''] = line.split(' from ');
  return OTEL_MODULE.test(what) && !OTEL_MODULE.test(parent);
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

let backend: PgBackend;
const probeDir = mkdtempSync(join(tmpdir(), 'otel-probe-'));

beforeAll(async () => {
  backend = await startPgBackend();
}, 60_000);

afterAll(async () => {
  await backend.close();
  rmSync(probeDir, { recursive: true, force: true });
});

describe('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let proc: TracedServiceProcess;
  const probeFile = join(probeDir, 'traced.log');

  beforeAll(async () => {
    proc = await startTracedServiceProcess(ENTRY, {
      env: {
        ...backend.env,
        DATABASE_URL: backend.url,
        MCP_API_KEYS: KEY_SENTINEL,
        MODULE_PROBE_FILE: probeFile,
      },
      nodeArgs: ['--import', MODULE_PROBE],
      readyTimeoutMs: READY_MS,
    });
  }, READY_MS + 10_000);

  afterAll(async () => {
    await proc?.stop();
  });

  it('/rpc: continues the caller’s traceparent; tool span under the request span, pg spans under the tool span', async () => {
    const traceId = hex(16);
    const callerSpan = hex(8);
    const { body } = await rpc(
      proc.url,
      'tools/call',
      { name: 'execute_sql', arguments: { sql: `SELECT '${ARG_SENTINEL}' AS v` } },
      { headers: { ...AUTH, traceparent: `00-${traceId}-${callerSpan}-01` } },
    );
    // The sentinel did travel: it is in the answer, so its absence from the export below means something.
    expect(JSON.stringify(body)).toContain(ARG_SENTINEL);
    const trace = await rpcTraceSpans(proc.receiver, traceId);
    const request = onlySpan(trace, (span) => span.name === 'POST /rpc', 'request span');
    expect(request).toMatchObject({
      parentSpanId: callerSpan,
      kind: SPAN_KIND.SERVER,
      scope: '@mcp-sse/core',
      service: 'postgres',
    });
    expect(request.attributes).toEqual({
      'http.request.method': 'POST',
      'http.route': '/rpc',
      'http.response.status_code': 200,
    });
    const tool = onlySpan(trace, (span) => span.name === 'tools/call execute_sql', 'tool span');
    expect(tool).toMatchObject({ parentSpanId: request.spanId, kind: SPAN_KIND.INTERNAL, status: { code: 0 } });
    expect(toolAttributesWithoutDuration(tool)).toEqual(
      okToolSpanAttributes({ service: 'postgres', tool: 'execute_sql', transport: 'rpc' }),
    );
    const query = onlySpan(
      trace,
      (span) => span.scope === '@opentelemetry/instrumentation-pg' && span.name.startsWith('pg.query:SELECT'),
      'pg query span',
    );
    expect(query).toMatchObject({ parentSpanId: tool.spanId, kind: SPAN_KIND.CLIENT });
    expect(query.attributes['db.system.name']).toBe('postgresql');
    expect(Object.keys(query.attributes).filter((key) => /statement|query\.text|query\.summary/.test(key))).toEqual([]);
    // Every span of the trace hangs from the caller's span through the request span.
    for (const span of trace) {
      if (span !== request) expect(trace.some((parent) => parent.spanId === span.parentSpanId)).toBe(true);
    }
  });

  it.each([
    ['streamable-http', '/mcp'],
    ['sse', '/messages'],
  ] as const)('%s: the tool span sits under the POST %s request that carried it', async (kind, route) => {
    const client = await connectClient(proc.url, kind, { headers: AUTH });
    try {
      const result = await client.callTool({
        name: 'execute_sql',
        arguments: { sql: `SELECT '${ARG_SENTINEL}' AS ${kind === 'sse' ? 'a' : 'b'}` },
      });
      expect(result.isError).toBeUndefined();
    } finally {
      await client.close();
    }
    const isTool = (span: ReceivedSpan) =>
      span.name === 'tools/call execute_sql' && span.attributes['mcp.transport'] === kind;
    const spans = await proc.receiver.waitFor((all) => {
      const tool = all.find(isTool);
      return tool !== undefined && all.some((span) => span.spanId === tool.parentSpanId);
    });
    const tool = onlySpan(spans, isTool, `${kind} tool span`);
    const request = onlySpan(spans, (span) => span.spanId === tool.parentSpanId, 'parent');
    expect(request).toMatchObject({
      name: `POST ${route}`,
      kind: SPAN_KIND.SERVER,
      parentSpanId: undefined,
      traceId: tool.traceId,
    });
    expect(toolAttributesWithoutDuration(tool)).toEqual(
      okToolSpanAttributes({ service: 'postgres', tool: 'execute_sql', transport: kind }),
    );
    expect(
      spans.some((span) => span.scope === '@opentelemetry/instrumentation-pg' && span.parentSpanId === tool.spanId),
    ).toBe(true);
  });

  it('records isError with its code, and a protocol error without the unknown name', async () => {
    const traceId = hex(16);
    const traceparent = `00-${traceId}-${hex(8)}-01`;
    const invalid = await rpc(
      proc.url,
      'tools/call',
      { name: 'execute_sql', arguments: { query: ARG_SENTINEL } },
      {
        headers: { ...AUTH, traceparent },
      },
    );
    expect((invalid.body as { result: { isError: boolean } }).result.isError).toBe(true);
    // A database error quotes the statement: the exported exception keeps its type only.
    const failing = await rpc(
      proc.url,
      'tools/call',
      { name: 'execute_sql', arguments: { sql: `SELECT ${ARG_SENTINEL}` } },
      {
        headers: { ...AUTH, traceparent },
      },
    );
    expect(JSON.stringify(failing.body)).toContain(ARG_SENTINEL);
    const unknown = await rpc(
      proc.url,
      'tools/call',
      { name: `no_such_${ARG_SENTINEL}`, arguments: {} },
      {
        headers: { ...AUTH, traceparent },
      },
    );
    expect((unknown.body as { error: { code: number } }).error.code).toBe(-32602);
    const spans = await proc.receiver.waitFor(
      (all) =>
        all.filter((span) => span.traceId === traceId && span.name.startsWith('tools/call')).length === 3 &&
        all.filter((span) => span.traceId === traceId && span.name === 'POST /rpc').length === 3,
    );
    const tools = spans.filter((span) => span.traceId === traceId && span.name.startsWith('tools/call'));
    expect(
      tools.map((span) => [span.name, span.attributes['mcp.tool.outcome'], span.attributes['error.type'], span.status]),
    ).toEqual([
      ['tools/call execute_sql', 'isError', 'INVALID_INPUT', { code: 2, message: 'INVALID_INPUT' }],
      [
        'tools/call execute_sql',
        'isError',
        tools[1]!.attributes['mcp.tool.error_code'],
        { code: 2, message: tools[1]!.attributes['mcp.tool.error_code'] },
      ],
      ['tools/call', 'protocol_error', '-32602', { code: 2, message: '-32602' }],
    ]);
    expect(tools[1]!.attributes['mcp.tool.error_code']).toMatch(/^[A-Z_]+$/);
    expect(tools[2]!.attributes['rpc.jsonrpc.error_code']).toBe(-32602);
    expect(tools[2]!.attributes['gen_ai.tool.name']).toBeUndefined();
  });

  it('exports no argument value and no API key, anywhere in the payload', () => {
    const raw = proc.receiver.raw().toString('utf8');
    expect(raw.length).toBeGreaterThan(1000);
    expect(raw.includes(ARG_SENTINEL)).toBe(false);
    expect(raw.includes(KEY_SENTINEL)).toBe(false);
    expect(raw.toLowerCase().includes('authorization')).toBe(false);
  });

  it('loaded the OpenTelemetry SDK (the probe sees it when tracing is on)', () => {
    const loaded = modulesLoaded(probeFile).filter((line) => OTEL_MODULE.test(line));
    expect(loaded.some((line) => line.includes('@opentelemetry/sdk-trace'))).toBe(true);
    expect(loaded.some((line) => line.includes('@opentelemetry/instrumentation-pg'))).toBe(true);
  });
});

describe('tracing off (no endpoint)', () => {
  it(
    'loads no OpenTelemetry module, not even for a tool call',
    async () => {
      const probeFile = join(probeDir, 'untraced.log');
      const proc = await startServiceProcess(ENTRY, {
        env: { ...backend.env, DATABASE_URL: backend.url, MODULE_PROBE_FILE: probeFile },
        nodeArgs: ['--import', MODULE_PROBE],
        readyTimeoutMs: READY_MS,
      });
      try {
        const { body } = await rpc(proc.url, 'tools/call', {
          name: 'execute_sql',
          arguments: { sql: 'SELECT 1 AS one' },
        });
        expect((body as { result: { isError?: boolean } }).result.isError).toBeUndefined();
      } finally {
        await proc.stop();
      }
      const loaded = modulesLoaded(probeFile);
      // The probe saw the service's own modules (pg among them), so an empty list below is meaningful.
      expect(loaded.some((line) => /[/]pg[/]/.test(line) || line.startsWith('require pg '))).toBe(true);
      // Only the API package that prom-client (the /metrics library) requires for its exemplars,
      // as before tracing existed: a few kB of no-op API, never the SDK, an exporter or a hook.
      expect(
        loaded.filter(entersOtel).map((line) => line.replace(/ from .*[/]prom-client[/]/, ' from prom-client/')),
      ).toEqual(['require @opentelemetry/api from prom-client/lib/metrics/processCpuTotal.js']);
    },
    READY_MS + 10_000,
  );
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { ClientTransportKind } from './connect-client.js';
import { waitUntil } from './wait-until.js';

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: AnyValue }[];
  status?: { code?: number; message?: string };
  events?: { name: string; attributes?: { key: string; value: AnyValue }[] }[];
}

interface OtlpExport {
  resourceSpans: {
    resource?: { attributes?: { key: string; value: AnyValue }[] };
    scopeSpans: { scope?: { name: string }; spans: OtlpSpan[] }[];
  }[];
}

/** One exported span, flattened: attributes as plain values, its scope and resource service name. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  scope: string;
  service: string | undefined;
  attributes: Record<string, string | number | boolean>;
  status: { code: number; message?: string };
}

export interface OtlpReceiver {
  /** The value for OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Every request body as received, for searching the raw bytes. */
  raw(): Buffer;
  /** Resolves with the spans once `predicate` holds for the spans received so far. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

function valueOf(value: AnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  return JSON.stringify(value);
}

function attributesOf(list: { key: string; value: AnyValue }[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, valueOf(value)]));
}

/**
 * A local OTLP/HTTP trace receiver (POST /v1/traces, the JSON protocol: run the exporter with
 * OTEL_EXPORTER_OTLP_PROTOCOL=http/json), for tests of a service's tracing.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: Buffer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.push(body);
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const payload = JSON.parse(body.toString('utf8')) as OtlpExport;
      for (const resourceSpans of payload.resourceSpans) {
        const service = attributesOf(resourceSpans.resource?.attributes)['service.name'];
        for (const scopeSpans of resourceSpans.scopeSpans) {
          for (const span of scopeSpans.spans) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId ? span.parentSpanId : undefined,
              name: span.name,
              kind: span.kind,
              scope: scopeSpans.scope?.name ?? '',
              service: typeof service === 'string' ? service : undefined,
              attributes: attributesOf(span.attributes),
              status: {
                code: span.status?.code ?? 0,
                ...(span.status?.message ? { message: span.status.message } : {}),
              },
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    raw: () => Buffer.concat(bodies),
    async waitFor(predicate, timeoutMs = 20_000) {
      await waitUntil(() => predicate(spans), 'the expected spans to reach the OTLP receiver', {
        timeoutMs,
        intervalMs: 20,
      });
      return spans;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The spans of trace `traceId` once its `POST /rpc` span is in: the request span ends after every
 * span of the call under it, and the batch processor exports spans in the order they end.
 */
export async function rpcTraceSpans(receiver: OtlpReceiver, traceId: string): Promise<ReceivedSpan[]> {
  const spans = await receiver.waitFor((all) =>
    all.some((span) => span.traceId === traceId && span.name === 'POST /rpc'),
  );
  return spans.filter((span) => span.traceId === traceId);
}

/** OTLP's SpanKind numbers, as `ReceivedSpan.kind` carries them. */
export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

/**
 * The one span of `spans` that `predicate` picks; throws (naming `what`) when it picks none or
 * several, so that a test never reads a span that only happened to come first.
 */
export function onlySpan(
  spans: ReceivedSpan[],
  predicate: (span: ReceivedSpan) => boolean,
  what: string,
): ReceivedSpan {
  const found = spans.filter(predicate);
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`);
  return found[0]!;
}

/**
 * A tool span's attributes without `mcp.tool.duration_ms`, which differs from run to run, so that a
 * test can compare the rest exactly; throws unless the duration is there and positive.
 */
export function toolAttributesWithoutDuration(span: ReceivedSpan): Record<string, string | number | boolean> {
  const { 'mcp.tool.duration_ms': ms, ...rest } = span.attributes;
  if (!(typeof ms === 'number' && ms > 0)) {
    throw new Error(`expected a positive mcp.tool.duration_ms on ${span.name}, found ${JSON.stringify(ms)}`);
  }
  return rest;
}

/**
 * Every attribute the core (packages/core/src/tracing/) puts on the span of a tools/call that ended
 * ok, the duration aside: what `toolAttributesWithoutDuration` returns for such a span.
 */
export function okToolSpanAttributes(call: {
  service: string;
  tool: string;
  transport: 'rpc' | ClientTransportKind;
}): Record<string, string> {
  return {
    'mcp.method.name': 'tools/call',
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': call.tool,
    'mcp.transport': call.transport,
    'mcp.service': call.service,
    'mcp.tool.outcome': 'ok',
  };
}

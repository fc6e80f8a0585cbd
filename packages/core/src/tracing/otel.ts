import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

import { createTraceExporter, RedactingExporter } from './export.js';
import { batchOptionsFromEnv, samplerFromEnv } from './otel-env.js';
import type { ToolCallFacts, ToolSpan, ToolSpanOutcome, Tracing } from './tracing.js';

/** The routes whose path names a request span; any other path is the client's text and is left out. */
const ROUTES = new Set(['/sse', '/messages', '/mcp', '/rpc']);
/** Probes and scrapes make no traces: they would drown the requests that matter. */
const UNTRACED = new Set(['/health', '/metrics']);
const METHODS = new Set(['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS']);

const headerGetter = {
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
};

/**
 * The OpenTelemetry side of tracing: provider, exporter, instrumentations, and the two span kinds
 * the core makes. Loaded only by startTracing (a dynamic import) when an endpoint is set.
 */
export function createOtelTracing(serviceName: string, env: Record<string, string | undefined>): Tracing {
  const resource = resourceFromAttributes({ 'service.name': serviceName }).merge(
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the service's own name.
    detectResources({ detectors: [envDetector] }),
  );
  const exporter = new RedactingExporter(createTraceExporter(env));
  const provider = new TracerProvider({
    resource,
    sampler: samplerFromEnv(env),
    spanProcessors: [new BatchSpanProcessor({ exporter, ...batchOptionsFromEnv(env) })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  // Backend calls become spans only inside a traced request (not /health's queries, not pool upkeep).
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new MySQL2Instrumentation(),
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
  const tracer = provider.getTracer('@mcp-sse/core');

  return {
    wrapRequestListener: (listener) => tracedListener(tracer, listener),
    startToolCall: (facts) => toolSpan(tracer, facts),
    shutdown: async () => {
      unregister();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function tracedListener(tracer: Tracer, listener: RequestListener): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req.url);
    if (UNTRACED.has(path)) {
      listener(req, res);
      return;
    }
    const method = METHODS.has(req.method ?? '') ? (req.method as string) : '_OTHER';
    const route = ROUTES.has(path) ? path : undefined;
    // An incoming W3C traceparent (LiteLLM's, say) makes this request part of the caller's trace.
    const parent = propagation.extract(ROOT_CONTEXT, req.headers, headerGetter);
    const span = tracer.startSpan(
      route ? `${method} ${route}` : method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': method, ...(route ? { 'http.route': route } : {}) },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    // Body chunks and the response's events run in the request's context (they come from the socket).
    context.bind(active, req);
    context.bind(active, res);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', res.statusCode);
      if (!res.writableFinished) span.setAttribute('mcp.response.aborted', true);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(active, () => listener(req, res));
  };
}

function toolSpan(tracer: Tracer, facts: ToolCallFacts): ToolSpan {
  const parent = context.active();
  const span: Span = tracer.startSpan(
    facts.tool === undefined ? 'tools/call' : `tools/call ${facts.tool}`,
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.operation.name': 'execute_tool',
        ...(facts.tool === undefined ? {} : { 'gen_ai.tool.name': facts.tool }),
        'mcp.transport': facts.transport,
        'mcp.service': facts.service,
      },
    },
    parent,
  );
  const active = trace.setSpan(parent, span);
  const started = performance.now();
  return {
    run: (fn) => context.with(active, fn),
    end: (outcome: ToolSpanOutcome) => {
      span.setAttribute('mcp.tool.outcome', outcome.kind);
      span.setAttribute('mcp.tool.duration_ms', Math.round((performance.now() - started) * 100) / 100);
      if (outcome.kind === 'isError') {
        const type = outcome.errorCode ?? 'tool_error';
        span.setAttribute('mcp.tool.error_code', type);
        span.setAttribute('error.type', type);
        // The code only: a tool's message may quote its arguments.
        span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      } else if (outcome.kind === 'protocol_error') {
        const type = outcome.rpcCode === undefined ? 'protocol_error' : String(outcome.rpcCode);
        if (outcome.rpcCode !== undefined) span.setAttribute('rpc.jsonrpc.error_code', outcome.rpcCode);
        span.setAttribute('error.type', type);
        span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      }
      span.end();
    },
  };
}

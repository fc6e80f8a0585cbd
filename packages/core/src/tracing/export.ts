import type { Attributes } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

import { protocolFromEnv } from './otel-env.js';

/** The OTLP/HTTP exporter; it reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, HEADERS, TIMEOUT, COMPRESSION. */
export function createTraceExporter(env: Record<string, string | undefined>): SpanExporter {
  return protocolFromEnv(env) === 'http/json' ? new JsonExporter() : new ProtobufExporter();
}

/**
 * Attributes that carry a tool's arguments in backend spans: the SQL text (execute_sql's argument),
 * the URL fetched (the fetch tool's), a Redis command's arguments. The span keeps what it measures
 * (operation, server, status, duration), never what was asked.
 */
const SENSITIVE = new Set([
  'db.statement',
  'db.query.text',
  'db.query.summary',
  'url.full',
  'url.path',
  'url.query',
  'http.url',
  'http.target',
  'http.request.header.authorization',
]);
const SENSITIVE_PREFIXES = ['db.query.parameter.', 'db.operation.parameter.', 'http.request.header.'];

/** What the first word of a SQL text may be in a span name; anything else is dropped from the name. */
const SQL_VERBS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'WITH',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'SET',
  'SHOW',
  'EXPLAIN',
  'CREATE',
  'ALTER',
  'DROP',
  'TRUNCATE',
  'VALUES',
  'DECLARE',
  'FETCH',
  'CLOSE',
  'RESET',
  'DISCARD',
  'SAVEPOINT',
  'RELEASE',
  'START',
  'CALL',
  'COPY',
  'LISTEN',
  'UNLISTEN',
  'PREPARE',
  'EXECUTE',
  'DEALLOCATE',
  'REPLACE',
  'USE',
  'DESCRIBE',
]);

function redactAttributes(attributes: Attributes): Attributes {
  const kept: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (SENSITIVE.has(key) || SENSITIVE_PREFIXES.some((prefix) => key.startsWith(prefix))) continue;
    kept[key] = value;
  }
  return kept;
}

/** `pg.query:SELECT db` keeps a SQL verb; a first word that is not one (the caller's text) goes. */
export function redactSpanName(name: string): string {
  const match = /^([\w.-]+):(\S+)(.*)$/.exec(name);
  if (!match) return name;
  const [, prefix, command, rest] = match;
  return SQL_VERBS.has(command!.toUpperCase()) ? name : `${prefix}${rest}`;
}

/**
 * Strips what could carry arguments or secrets from every span before export, whichever
 * instrumentation made it: the attributes above, exception messages and stacks (a database's error
 * quotes the statement), and status messages of other scopes than the core's.
 */
export function redactSpan(span: ReadableSpan): ReadableSpan {
  const own = span.instrumentationScope.name === '@mcp-sse/core';
  return {
    name: own ? span.name : redactSpanName(span.name),
    kind: span.kind,
    spanContext: () => span.spanContext(),
    ...(span.parentSpanContext ? { parentSpanContext: span.parentSpanContext } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    status: own ? span.status : { code: span.status.code },
    attributes: redactAttributes(span.attributes),
    links: span.links,
    events: span.events.map((event) => ({
      time: event.time,
      name: event.name,
      attributes:
        event.name === 'exception'
          ? {
              ...(event.attributes?.['exception.type'] === undefined
                ? {}
                : { 'exception.type': event.attributes['exception.type'] }),
            }
          : redactAttributes(event.attributes ?? {}),
    })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

export class RedactingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans.map(redactSpan), resultCallback);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

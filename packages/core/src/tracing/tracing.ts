import type { RequestListener } from 'node:http';

import type { TransportKind } from '../define-tool.js';

/**
 * What the core asks of tracing. This module imports nothing of OpenTelemetry: with
 * OTEL_EXPORTER_OTLP_ENDPOINT unset the SDK is never loaded (cold start and memory), and every
 * caller pays one `undefined` check.
 */
export interface Tracing {
  /** Wraps the server's request listener: one SERVER span per request, W3C `traceparent` honoured. */
  wrapRequestListener(listener: RequestListener): RequestListener;
  /** A span for one tool call, child of the request's span. */
  startToolCall(facts: ToolCallFacts): ToolSpan;
  /** Exports what is buffered and stops (at shutdown). */
  shutdown(): Promise<void>;
}

export interface ToolCallFacts {
  /** The tool's name; undefined for a name the registry does not know (it is the client's text). */
  tool: string | undefined;
  transport: TransportKind;
  service: string;
}

export type ToolSpanOutcome =
  | { kind: 'ok' }
  | { kind: 'isError'; errorCode: string | undefined }
  | { kind: 'protocol_error'; rpcCode: number | undefined };

export interface ToolSpan {
  /** Runs `fn` with this span active, so that backend calls inside it become its children. */
  run<T>(fn: () => T): T;
  end(outcome: ToolSpanOutcome): void;
}

let active: Tracing | undefined;

/** The tracing of this process, or undefined when it is off. */
export function activeTracing(): Tracing | undefined {
  return active;
}

/** For tests that build an app in-process with their own tracing; the process entry uses startTracing. */
export function setTracing(tracing: Tracing | undefined): void {
  active = tracing;
}

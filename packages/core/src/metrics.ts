import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one app. A registry per app keeps tests (several apps per process) apart. */
export interface Metrics {
  registry: Registry;
  toolCalls: Counter<'tool' | 'outcome'>;
  toolDuration: Histogram<'tool'>;
  openSessions: Gauge<'transport'>;
  /** Requests forwarded between replicas (MCP_SESSION_STORE): sent to an owner, run for another replica. */
  forwarded: Counter<'direction'>;
  /** SSE streams closed because their client stopped reading (http/slow-consumer.ts). */
  slowStreamsClosed: Counter<'reason'>;
}

export function createMetrics(service: string, defaults = true): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'mcp_process_' });
  const toolCalls = new Counter({
    name: 'mcp_tool_calls_total',
    help: 'Tool calls by tool and outcome (ok, error, invalid, timeout, cancelled, rate_limited, internal)',
    labelNames: ['tool', 'outcome'] as const,
    registers: [registry],
  });
  const toolDuration = new Histogram({
    name: 'mcp_tool_call_duration_seconds',
    help: 'Tool call duration in seconds',
    labelNames: ['tool'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const openSessions = new Gauge({
    name: 'mcp_open_sessions',
    help: 'Open MCP sessions by transport',
    labelNames: ['transport'] as const,
    registers: [registry],
  });
  openSessions.set({ transport: 'sse' }, 0);
  openSessions.set({ transport: 'streamable-http' }, 0);
  const forwarded = new Counter({
    name: 'mcp_forwarded_requests_total',
    help: 'Session requests forwarded between replicas: sent (to the owner) or received (run here for another replica)',
    labelNames: ['direction'] as const,
    registers: [registry],
  });
  const slowStreamsClosed = new Counter({
    name: 'mcp_slow_streams_closed_total',
    help: 'SSE streams closed because the client stopped reading (reason: buffer, stall)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  slowStreamsClosed.inc({ reason: 'buffer' }, 0);
  slowStreamsClosed.inc({ reason: 'stall' }, 0);
  return { registry, toolCalls, toolDuration, openSessions, forwarded, slowStreamsClosed };
}

import type { FastifyInstance } from 'fastify';

import { isExposedError, isServiceError } from '../errors.js';
import type { CoreState } from '../state.js';

const CHECK_TIMEOUT_MS = 3000;

interface CheckResult {
  status: 'ok' | 'down';
  latency_ms: number;
  error?: string;
  [key: string]: unknown;
}

async function runCheck(check: () => Promise<void | Record<string, unknown>>, debug: boolean): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`);
  try {
    const detail = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'ok', latency_ms: Math.round(performance.now() - started), ...(detail ?? {}) };
  } catch (error) {
    // Only the message of a ServiceError, an exposed domain error or our timeout is shown; driver
    // errors may carry secrets.
    const message =
      isServiceError(error) || isExposedError(error) || (error instanceof Error && (error === timedOut || debug))
        ? error.message
        : 'unavailable';
    return { status: 'down', latency_ms: Math.round(performance.now() - started), error: message };
  } finally {
    clearTimeout(timer);
  }
}

/** GET /health (liveness + dependency checks; 503 when one is down) and GET /metrics (Prometheus). */
export function healthPlugin(app: FastifyInstance, state: CoreState, done: (err?: Error) => void): void {
  const { service, config } = state;
  const checks = service.healthChecks?.(state.deps, config) ?? {};

  app.get('/health', async (_request, reply) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => runCheck(checks[name]!, config.MCP_DEBUG)));
    const byName = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const healthy = results.every((result) => result.status === 'ok') && !state.closing;
    void reply.code(healthy ? 200 : 503).header('cache-control', 'no-store');
    return {
      status: healthy ? 'healthy' : 'unhealthy',
      service: service.name,
      version: service.version,
      uptime: Math.round((Date.now() - state.startedAt) / 1000),
      tools_count: state.registry.size,
      sessions: state.sessions.size,
      // Reported, not a check: a replica without Redis still serves the sessions it holds.
      ...(state.cluster
        ? {
            session_store: state.cluster.directory.available ? 'up' : 'down',
            replica: state.cluster.directory.replicaId,
          }
        : {}),
      checks: byName,
    };
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await state.metrics.registry.metrics();
    void reply.header('content-type', state.metrics.registry.contentType);
    return body;
  });
  done();
}

import { register } from 'node:module';

import { bundled } from '../bundled.js';
import { ConfigError } from '../errors.js';
import { activeTracing, setTracing } from './tracing.js';

/**
 * Modules whose OpenTelemetry instrumentation needs the ESM loader hook (they are imported, not
 * required). scripts/bundle-service.mjs reads this list: a service that uses one keeps it out of its bundle.
 */
export const HOOKED_MODULES = ['pg', 'pg-pool', 'mysql2', 'ioredis'];

/** Whether the standard variables ask for trace export (OTEL_SDK_DISABLED=true wins). */
export function tracingRequested(env: Record<string, string | undefined>): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  if (env['OTEL_TRACES_EXPORTER']?.trim().toLowerCase() === 'none') return false;
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim() || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim());
}

/**
 * Starts OpenTelemetry tracing when OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) is set, and
 * does nothing else otherwise: the SDK is imported only then. A service's `main.ts` calls it first,
 * before it imports its own modules, because the pg, mysql2 and ioredis instrumentations patch a
 * module when it is loaded: `await startTracing('postgres')`, then `await import('./service.js')`.
 */
export async function startTracing(
  serviceName: string,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  if (activeTracing() !== undefined || !tracingRequested(env)) return;
  // The loader hook sees the `import pg from 'pg'` of modules loaded from now on; only the modules
  // instrumented are wrapped, every other import goes through untouched. A bundle has nothing to
  // hook (scripts/bundle-service.mjs refuses a service that uses one of these modules) and cannot
  // resolve the hook from its folder.
  if (!bundled) {
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: HOOKED_MODULES } });
  }
  const { createOtelTracing } = await import('./otel.js');
  try {
    setTracing(createOtelTracing(serviceName, env));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`mcp-${serviceName}: invalid configuration: ${error.message}\n`);
    process.exit(1);
  }
}

/** Flushes and stops tracing, within `ms`; a no-op when it is off. */
export async function stopTracing(ms: number): Promise<void> {
  const tracing = activeTracing();
  if (!tracing) return;
  setTracing(undefined);
  await Promise.race([tracing.shutdown().catch(() => {}), new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

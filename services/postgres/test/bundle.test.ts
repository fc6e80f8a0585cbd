/**
 * The bundle the image runs (dist/main.bundle.js, scripts/bundle-service.mjs) as its own process with
 * plain node: the same tools as the sources (the reviewed tools/list); pg left out of the bundle and
 * required at run time, so that with tracing on OpenTelemetry's require hook still patches it (a pg
 * span under the tool's span); and libpg-query, external too, finding its WebAssembly beside itself
 * (the statement guard refuses a write); a long statement checked in the guard's worker thread,
 * started from the worker entry's own bundle (tsc's files are not in the image).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  builtEntry,
  listedTools,
  moduleProbe,
  okToolSpanAttributes,
  onlySpan,
  rpc,
  rpcTraceSpans,
  SPAN_KIND,
  startTracedServiceProcess,
  toolAttributesWithoutDuration,
  toolsListOf,
  type TracedServiceProcess,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { type PgBackend, startPgBackend } from './helpers/pg-backend.js';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const packageJson = JSON.parse(readFileSync(join(serviceDir, 'package.json'), 'utf8')) as {
  main: string;
  scripts: Record<string, string>;
};
const READY_MS = 60_000;
const probe = moduleProbe();

describe('the postgres service bundle (what the image runs)', () => {
  let backend: PgBackend;
  let proc: TracedServiceProcess;

  beforeAll(async () => {
    backend = await startPgBackend();
    proc = await startTracedServiceProcess(builtEntry(serviceDir), {
      built: true,
      cwd: serviceDir,
      readyTimeoutMs: READY_MS,
      env: { ...backend.env, DATABASE_URL: backend.url, MCP_TOOLSETS: 'all', ...probe.env },
      nodeArgs: probe.nodeArgs,
    });
  }, READY_MS + 10_000);

  afterAll(async () => {
    await proc?.stop();
    await backend?.close();
    probe.remove();
  });

  it('is what package.json names as main and start, with pg and libpg-query left to node_modules', () => {
    expect(packageJson.main).toBe('dist/main.bundle.js');
    expect(packageJson.scripts['start']).toBe('node dist/main.bundle.js');
    expect(JSON.parse(readFileSync(join(serviceDir, 'dist', 'bundle.json'), 'utf8'))).toEqual({
      entries: ['main', 'sql-guard-worker'],
      external: ['libpg-query', 'pg'],
    });
  });

  it('serves the reviewed tools/list over /mcp (every toolset)', async () => {
    expect(await listedTools(proc.url)).toEqual(toolsListOf(service, { DATABASE_URL: backend.url }));
  });

  it('has not loaded the statement parser before a statement is checked (/health parses none)', async () => {
    const health = await fetch(`${proc.url}/health`);
    expect(health.status).toBe(200);
    // The probe saw pg load, so [] below means something.
    expect(probe.loaded().some((line) => line.startsWith('require pg '))).toBe(true);
    expect(probe.loaded().filter((line) => line.includes('libpg-query'))).toEqual([]);
  });

  it('traces execute_sql with a pg span under the tool span (pg required, and patched, at run time)', async () => {
    const traceId = 'd'.repeat(32);
    const { body } = await rpc(
      proc.url,
      'tools/call',
      { name: 'execute_sql', arguments: { sql: "SELECT 'from the bundle' AS v" } },
      { headers: { traceparent: `00-${traceId}-${'e'.repeat(16)}-01` } },
    );
    expect(body).toMatchObject({ result: { structuredContent: { rows: [{ v: 'from the bundle' }] } } });
    const trace = await rpcTraceSpans(proc.receiver, traceId);
    const tool = onlySpan(trace, (span) => span.name === 'tools/call execute_sql', 'tool span');
    expect(toolAttributesWithoutDuration(tool)).toEqual(
      okToolSpanAttributes({ service: 'postgres', tool: 'execute_sql', transport: 'rpc' }),
    );
    const query = onlySpan(
      trace,
      (span) => span.scope === '@opentelemetry/instrumentation-pg' && span.name.startsWith('pg.query:SELECT'),
      'pg query span',
    );
    expect(query).toMatchObject({ parentSpanId: tool.spanId, kind: SPAN_KIND.CLIENT });
    expect(probe.loaded().some((line) => line.includes('libpg-query'))).toBe(true);
  });

  it('parses statements with libpg-query (its WebAssembly found beside it): a write is refused', async () => {
    const { body } = await rpc(proc.url, 'tools/call', {
      name: 'execute_sql',
      arguments: { sql: 'CREATE TABLE bundle_probe (id int)' },
    });
    expect(body).toMatchObject({ result: { isError: true } });
    expect(await backend.admin("SELECT to_regclass('bundle_probe') AS t")).toEqual([{ t: null }]);
  });

  it('checks a long statement in the guard worker, started from its own bundle', async () => {
    const padding = ` /* ${'x'.repeat(3000)} */`;
    const read = await rpc(proc.url, 'tools/call', {
      name: 'execute_sql',
      arguments: { sql: `SELECT 'long' AS v${padding}` },
    });
    expect(read.body).toMatchObject({ result: { structuredContent: { rows: [{ v: 'long' }] } } });
    const write = await rpc(proc.url, 'tools/call', {
      name: 'execute_sql',
      arguments: { sql: `CREATE TABLE bundle_probe (id int)${padding}` },
    });
    expect(write.body).toMatchObject({ result: { isError: true } });
    expect(await backend.admin("SELECT to_regclass('bundle_probe') AS t")).toEqual([{ t: null }]);
    const workers = probe.loaded().filter((line) => /sql-guard-worker/.test(line));
    expect(workers.length).toBeGreaterThan(0);
    expect(workers.every((line) => line.includes(join(serviceDir, 'dist', 'sql-guard-worker.bundle.js')))).toBe(true);
  });
});

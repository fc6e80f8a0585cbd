/**
 * OpenTelemetry tracing of the databases service as a real process, against a local OTLP/HTTP
 * receiver: MariaDB queries (mysql2) and the Redis cache (ioredis) become CLIENT spans under the
 * tool call's span, like pg's in the postgres service (services/postgres/test/tracing.test.ts), and
 * neither the SQL, its parameters, a password nor the API key reaches the export. Twice: from the
 * sources (the clients patched through the ESM loader hook) and as the bundle the image runs (pg,
 * mysql2 and ioredis left out of it and required at run time, patched through the require hook).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import {
  builtEntry,
  onlySpan,
  type ReceivedSpan,
  rpc,
  SPAN_KIND,
  startTracedServiceProcess,
  type TracedServiceProcess,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createFixture, type Fixture } from './helpers/fixture.js';

const SOURCE_ENTRY = new URL('../src/main.ts', import.meta.url).pathname;
const serviceDir = fileURLToPath(new URL('..', import.meta.url));
/** Under a loaded machine a process from source takes a while to start. */
const READY_MS = 90_000;
const ARG_SENTINEL = `otelargsentinel${randomBytes(6).toString('hex')}`;
const KEY_SENTINEL = `otelkeysentinel${randomBytes(6).toString('hex')}`;
const AUTH = { authorization: `Bearer ${KEY_SENTINEL}` };
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const MYSQL_SCOPE = '@opentelemetry/instrumentation-mysql2';
const REDIS_SCOPE = '@opentelemetry/instrumentation-ioredis';

describe.each(['source', 'bundle'] as const)('from the %s', (from) => {
  let f: Fixture;
  let proc: TracedServiceProcess;

  beforeAll(async () => {
    f = await createFixture();
    proc = await startTracedServiceProcess(from === 'bundle' ? builtEntry(serviceDir) : SOURCE_ENTRY, {
      built: from === 'bundle',
      cwd: serviceDir,
      env: { ...f.env, MCP_API_KEYS: KEY_SENTINEL },
      readyTimeoutMs: READY_MS,
    });
    const sync = await rpc(proc.url, 'tools/call', { name: 'sync_metadata', arguments: {} }, { headers: AUTH });
    expect((sync.body as { result: { isError?: boolean } }).result.isError).toBeUndefined();
  }, READY_MS + 60_000);

  afterAll(async () => {
    await proc?.stop();
    await f?.close();
  }, 60_000);

  /** Calls a tool over /rpc inside a trace of its own; returns the trace's spans once the tool span and `more` are in. */
  async function tracedCall(
    name: string,
    args: Record<string, unknown>,
    more: (trace: ReceivedSpan[], tool: ReceivedSpan) => boolean,
  ): Promise<{ body: unknown; trace: ReceivedSpan[]; tool: ReceivedSpan }> {
    const traceId = hex(16);
    const { body } = await rpc(
      proc.url,
      'tools/call',
      { name, arguments: args },
      { headers: { ...AUTH, traceparent: `00-${traceId}-${hex(8)}-01` } },
    );
    const isTool = (span: ReceivedSpan) => span.traceId === traceId && span.name === `tools/call ${name}`;
    const spans = await proc.receiver.waitFor((all) => {
      const tool = all.find(isTool);
      return (
        tool !== undefined &&
        more(
          all.filter((span) => span.traceId === traceId),
          tool,
        )
      );
    });
    const trace = spans.filter((span) => span.traceId === traceId);
    return { body, trace, tool: onlySpan(trace, isTool, 'tool span') };
  }

  const childrenOf = (trace: ReceivedSpan[], parent: ReceivedSpan, scope: string) =>
    trace.filter((span) => span.scope === scope && span.parentSpanId === parent.spanId);

  describe('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
    it('execute_sql on MariaDB: the mysql2 query is a CLIENT span under the tool span, without its text', async () => {
      const { body, trace, tool } = await tracedCall(
        'execute_sql',
        { server: 'maria-main', database: f.my.shop, sql: 'SELECT ? AS v', params: [ARG_SENTINEL] },
        (spans, toolSpan) => childrenOf(spans, toolSpan, MYSQL_SCOPE).length > 0,
      );
      // The sentinel did travel to MariaDB and back: its absence from the export below means something.
      expect(JSON.stringify(body)).toContain(ARG_SENTINEL);
      expect(tool).toMatchObject({ kind: SPAN_KIND.INTERNAL, status: { code: 0 } });
      expect(tool.attributes['mcp.tool.outcome']).toBe('ok');
      const queries = childrenOf(trace, tool, MYSQL_SCOPE);
      // The engine-enforced read-only transaction around the statement, each round trip its own span,
      // named by its SQL verb only.
      expect(queries.map((span) => span.name)).toEqual(['SELECT', 'SET', 'START', 'SELECT', 'ROLLBACK']);
      for (const query of queries) {
        expect(query.kind).toBe(SPAN_KIND.CLIENT);
        expect(query.attributes).toEqual({
          'db.system.name': 'mysql',
          'db.namespace': f.my.shop,
          'server.address': '127.0.0.1',
          'server.port': 3306,
        });
      }
    });

    it('list_tables: the Redis cache miss and fill, then the hit, are ioredis spans under the tool span', async () => {
      const args = { server: 'maria-main', database: f.my.logs };
      const first = await tracedCall('list_tables', args, (spans, tool) =>
        childrenOf(spans, tool, REDIS_SCOPE).some((span) => span.name === 'set'),
      );
      const firstCommands = childrenOf(first.trace, first.tool, REDIS_SCOPE).map((span) => span.name);
      // The server's database list (cached already when execute_sql ran first), then the tables: a
      // miss, filled from the registry.
      expect(firstCommands.slice(-2)).toEqual(['get', 'set']);
      const second = await tracedCall(
        'list_tables',
        args,
        (spans, tool) => childrenOf(spans, tool, REDIS_SCOPE).length > 0,
      );
      // The same lookups again, every one a hit: nothing is written.
      expect(childrenOf(second.trace, second.tool, REDIS_SCOPE).map((span) => span.name)).toEqual(
        firstCommands.filter((command) => command === 'get'),
      );
      expect(childrenOf(second.trace, second.tool, '@opentelemetry/instrumentation-pg')).toEqual([]);
      for (const span of [...first.trace, ...second.trace].filter((s) => s.scope === REDIS_SCOPE)) {
        expect(span.kind).toBe(SPAN_KIND.CLIENT);
        // The command's name, never its key or value (the key is a digest of what was asked).
        expect(span.attributes).toEqual({
          'db.operation.name': span.name,
          'db.system.name': 'redis',
          'server.address': '127.0.0.1',
          'server.port': 6379,
        });
      }
    });

    it('exports no SQL parameter, password or API key, anywhere in the payload', () => {
      const raw = proc.receiver.raw().toString('utf8');
      expect(raw.length).toBeGreaterThan(1000);
      expect(raw.includes(ARG_SENTINEL)).toBe(false);
      expect(raw.includes(KEY_SENTINEL)).toBe(false);
      expect(raw.includes(f.my.password)).toBe(false);
      expect(raw.toLowerCase().includes('authorization')).toBe(false);
    });
  });
});

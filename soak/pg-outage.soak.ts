import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  rpc,
  type ServiceProcess,
  startServiceProcess,
  startTcpProxy,
  type TcpProxy,
  waitUntil,
} from '../packages/testing/src/index.js';
import { DATABASE_URL, POSTGRES_ENTRY, report, requirePostgres, START_TIMEOUT_MS } from './helpers/settings.js';

/**
 * Issue 16: PostgreSQL made unreachable mid-run, through a proxy the test controls. Within a second
 * `/health` answers 503 and tool calls fail with a clear message; when the database is back the
 * same process recovers by itself.
 */
interface Health {
  status: number;
  database?: { status: string; error?: string };
}

async function health(url: string): Promise<Health> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { checks: { database?: Health['database'] } };
  return { status: response.status, database: body.checks.database };
}

async function execute(url: string, sql: string): Promise<{ isError: boolean; text: string }> {
  const response = await rpc(url, 'tools/call', { name: 'execute_sql', arguments: { sql } });
  const result = (response.body as { result: { isError?: boolean; content: { text: string }[] } }).result;
  return { isError: result.isError === true, text: result.content[0]?.text ?? '' };
}

describe('PostgreSQL unreachable mid-run', () => {
  let svc: ServiceProcess;
  let proxy: TcpProxy;

  beforeAll(async () => {
    const target = await requirePostgres();
    proxy = await startTcpProxy(target);
    const url = new URL(DATABASE_URL);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    svc = await startServiceProcess(POSTGRES_ENTRY, {
      readyTimeoutMs: START_TIMEOUT_MS,
      env: {
        DATABASE_URL: url.toString(),
        MCP_RATE_LIMIT: '0',
        POSTGRES_CONNECT_TIMEOUT_MS: '500',
        POSTGRES_HEALTH_TIMEOUT_MS: '500',
      },
    });
  });

  afterAll(async () => {
    await svc?.stop('SIGKILL');
    await proxy?.close();
  });

  it('answers 503 and clear tool errors within a second, and recovers by itself', async () => {
    // Up, with connections in the pool.
    expect(await execute(svc.url, 'SELECT 1 AS ok')).toMatchObject({ isError: false });
    expect((await health(svc.url)).status).toBe(200);

    await proxy.down();
    const cut = performance.now();
    // A tool call sent at once, while /health is polled: each is timed from the cut.
    const call = execute(svc.url, 'SELECT 1 AS ok').then((outcome) => ({ ...outcome, ms: performance.now() - cut }));
    let unhealthy: Health | undefined;
    await waitUntil(
      async () => {
        unhealthy = await health(svc.url);
        return unhealthy.status === 503;
      },
      '/health 503',
      { timeoutMs: 5000, intervalMs: 10 },
    );
    const detectMs = performance.now() - cut;
    const { ms: callErrorMs, ...failed } = await call;

    await proxy.up();
    const back = performance.now();
    await waitUntil(async () => (await health(svc.url)).status === 200, '/health 200 again', {
      timeoutMs: 10_000,
      intervalMs: 10,
    });
    const recoverMs = performance.now() - back;
    const after = await execute(svc.url, 'SELECT 2 AS ok');

    report('pg outage: /health 503 after', `${detectMs.toFixed(0)} ms`);
    report('pg outage: tool error after', `${callErrorMs.toFixed(0)} ms`);
    report('pg outage: /health 200 after the database returned', `${recoverMs.toFixed(0)} ms`);

    expect(detectMs).toBeLessThan(1000);
    expect(callErrorMs).toBeLessThan(1000);
    expect(unhealthy?.database?.status).toBe('down');
    expect(unhealthy?.database?.error).toBe('Cannot reach the database server (ECONNREFUSED).');
    // A call that takes a pooled connection the proxy has just cut learns it on that connection; one
    // that opens a new connection is refused. Both are the service's exact, clear messages.
    expect(failed.isError).toBe(true);
    expect([
      'Cannot reach the database server (ECONNREFUSED).',
      'The connection to the database was lost during the call (the server or the network closed it). The call did not complete; try again.',
    ]).toContain(failed.text);
    expect(after).toMatchObject({ isError: false });
    expect(svc.child.exitCode).toBeNull();
    expect(svc.output()).not.toMatch(/Unhandled|uncaught/i);
  });
});

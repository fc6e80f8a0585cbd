import { fileURLToPath } from 'node:url';

import {
  rpcCallTool,
  type ServiceProcess,
  type StartedService,
  startService,
  startServiceProcess,
  startTcpProxy,
  type TcpProxy,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { backendRunning, longRead } from './helpers/active-backend.js';
import { REAL_SERVER, startPgBackend } from './helpers/pg-backend.js';

/**
 * A connection lost mid-query fails that call cleanly and never the process; the service recovers
 * by itself when the database is back. Real server only: PGlite has one backend and no
 * pg_terminate_backend.
 */
const backend = await startPgBackend();
const describeReal = describe.runIf(backend.real);
const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));

interface CallOutcome {
  isError: boolean;
  text: string;
  rows: unknown[];
}

async function execute(url: string, sql: string): Promise<CallOutcome> {
  const { isError, text, structured } = await rpcCallTool(url, 'execute_sql', { sql });
  return { isError, text, rows: (structured['rows'] as unknown[] | undefined) ?? [] };
}

/** Polls until `check` holds (no fixed sleeps); fails after `timeoutMs`. */
async function until<T>(
  what: string,
  probe: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * pg_cancel_backend until `call` settles. A cancel is best effort: one that lands while the backend
 * waits for the rest of a pipelined call (its state already 'active') is ignored by the server, a
 * window that widens on a loaded machine.
 */
async function cancelUntilSettled<T>(pid: number, call: Promise<T>): Promise<T> {
  let settled = false;
  const watched = call.finally(() => {
    settled = true;
  });
  while (!settled) {
    await backend.admin('SELECT pg_cancel_backend($1)', [pid]);
    await Promise.race([watched.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 250))]);
  }
  return watched;
}

async function health(url: string): Promise<{ status: number; body: { checks?: { database?: { status?: string } } } }> {
  const response = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: (await response.json()) as { checks?: { database?: { status?: string } } } };
}

afterAll(async () => {
  await backend.close();
});

describeReal(`a backend terminated mid-query ${REAL_SERVER}`, () => {
  let svc: StartedService;

  beforeAll(async () => {
    svc = await startService(service, {
      env: { DATABASE_URL: backend.url, POSTGRES_STATEMENT_TIMEOUT_MS: '60000', POSTGRES_POOL_MAX: '2' },
    });
    // Long statements are checked in a worker thread, which from source starts through tsx (compiling
    // the checker and loading the parser: seconds on a loaded machine). Started here, so that the tests
    // below time what they are about, not that start.
    await execute(svc.url, `SELECT 1 AS warm /* ${'x'.repeat(3000)} */`);
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
  });

  it('fails that call with a clear error, and the next call works', async () => {
    const running = execute(svc.url, longRead('mcp-terminate-probe'));
    const pid = await backendRunning(backend, 'mcp-terminate-probe');
    await backend.admin('SELECT pg_terminate_backend($1)', [pid]);
    const outcome = await running;
    expect(outcome).toMatchObject({
      isError: true,
      text: "The database closed this call's connection (terminating connection due to administrator command, SQLSTATE 57P01). The call did not complete; try again.",
    });
    const after = await health(svc.url);
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(await execute(svc.url, 'SELECT 1 AS ok')).toMatchObject({ isError: false, rows: [{ ok: 1 }] });
  });

  it('/health answers while a long call holds a connection, and while a huge statement is checked', async () => {
    const running = execute(svc.url, longRead('mcp-health-probe'));
    const pid = await backendRunning(backend, 'mcp-health-probe');
    // A 100,000-character statement the parser needs a long time for: checked off the event loop.
    const huge = `SELECT ${Array.from({ length: 6000 }, (_, i) => `lower('${i}')`).join(' || ')}`.slice(0, 99_990);
    const checking = execute(svc.url, huge);
    const started = performance.now();
    const answer = await health(svc.url);
    const elapsed = performance.now() - started;
    expect(answer.status).toBe(200);
    // A "did not hang" bound, far above a healthy answer (milliseconds) and far below the long read.
    expect(elapsed).toBeLessThan(3000);
    expect((await cancelUntilSettled(pid, running)).isError).toBe(true);
    expect((await checking).isError).toBe(true);
  }, 40_000);

  it('a caller cannot terminate or cancel the service’s own backends', async () => {
    const running = execute(svc.url, longRead('mcp-own-probe'));
    const pid = await backendRunning(backend, 'mcp-own-probe');
    for (const sql of [
      `SELECT pg_terminate_backend(${pid})`,
      `SELECT pg_cancel_backend(${pid})`,
      `SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mcp-postgres'`,
      `SELECT U&"pg!005fcancel!005fbackend" UESCAPE '!' (${pid})`,
    ]) {
      const outcome = await execute(svc.url, sql);
      expect(outcome.isError, sql).toBe(true);
      expect(outcome.text).toMatch(/^pg_(terminate|cancel)_backend\(\) is not allowed: it signals other sessions/);
    }
    expect(
      await backend.admin("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", [pid]),
    ).toHaveLength(1);
    await cancelUntilSettled(pid, running);
  });
});

describeReal(`the network between the service process and PostgreSQL fails ${REAL_SERVER}`, () => {
  let proxy: TcpProxy;
  let svc: ServiceProcess;

  beforeAll(async () => {
    proxy = await startTcpProxy({
      host: new URL(backend.url).hostname,
      port: Number(new URL(backend.url).port || 5432),
    });
    const url = new URL(backend.url);
    url.port = String(proxy.port);
    svc = await startServiceProcess(entry, {
      env: {
        DATABASE_URL: url.toString(),
        POSTGRES_STATEMENT_TIMEOUT_MS: '60000',
        POSTGRES_CONNECT_TIMEOUT_MS: '1000',
        POSTGRES_HEALTH_TIMEOUT_MS: '1000',
      },
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await proxy?.close();
  });

  it('a cut mid-query fails the call cleanly; refused connections fail fast; it recovers on its own', async () => {
    expect(await execute(svc.url, 'SELECT 1 AS ok')).toMatchObject({ isError: false });

    // 1. Cut every connection while a query runs.
    const running = execute(svc.url, longRead('mcp-proxy-probe'));
    await backendRunning(backend, 'mcp-proxy-probe');
    proxy.cutAll();
    expect(await running).toMatchObject({
      isError: true,
      text: 'The connection to the database was lost during the call (the server or the network closed it). The call did not complete; try again.',
    });

    // 2. The database is unreachable: calls and /health fail with clear answers, the process stays up.
    proxy.refuse();
    const down = await execute(svc.url, 'SELECT 1 AS ok');
    expect(down.isError).toBe(true);
    expect(down.text).toMatch(/^(Cannot reach the database server|The connection to the database was lost)/);
    const unhealthy = await until(
      '/health 503',
      () => health(svc.url),
      (answer) => answer.status === 503,
    );
    expect(unhealthy.body.checks?.database?.status).toBe('down');

    // 3. Back: the service recovers by itself, without a restart.
    proxy.restore();
    await until(
      '/health 200',
      () => health(svc.url),
      (answer) => answer.status === 200,
    );
    expect(await execute(svc.url, 'SELECT 2 AS ok')).toMatchObject({ isError: false, rows: [{ ok: 2 }] });

    // The same process all along, and nothing went unhandled.
    expect(svc.child.exitCode).toBeNull();
    expect(svc.output()).not.toMatch(/Unhandled|uncaught/i);
  }, 90_000);
});

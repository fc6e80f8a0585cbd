/**
 * Runaway calls: a read that never ends and a write that never ends. Neither may freeze the service:
 * /health and other sessions are answered while they run, the call is answered on time with its
 * timeout, the process running it is killed (a write rolled back), and shutdown does not wait for it.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { connectClient, isAlive, rpc, type StartedService, startService, startServiceProcess } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import {
  cpuTicks,
  databaseChildPids,
  dumpDatabase,
  ENDLESS_QUERY,
  runawayWrite,
  tempDir,
  waitForCpu,
  waitUntil,
} from './helpers.js';

interface ToolResult {
  isError?: boolean;
  content: { text: string }[];
  structuredContent?: unknown;
}

async function callRpc(url: string, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  const response = await rpc(url, 'tools/call', { name, arguments: args });
  return (response.body as { result: ToolResult }).result;
}

/** The promise's value and how long it took. */
async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await promise;
  return { value, ms: Date.now() - started };
}

/** /health, several times while a hostile call runs: each answer healthy, and none held up. */
async function expectHealthyMeanwhile(url: string): Promise<void> {
  for (let n = 0; n < 5; n++) {
    const { value: response, ms } = await timed(fetch(new URL('/health', url)));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; checks: { database: Record<string, unknown> } };
    expect(body.status).toBe('healthy');
    expect(body.checks.database).toMatchObject({ status: 'ok', journal_mode: 'wal', synchronous: 'FULL' });
    // A "did not hang" bound: the event loop is free, so this is milliseconds in practice.
    expect(ms).toBeLessThan(1000);
  }
}

/** Long enough for a database process to start under a loaded test run (tsx compiles it), short enough to wait for. */
const TIMEOUT_MS = 4000;

const serviceEntry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.source.json', import.meta.url));

describe('runaway calls on a running service', () => {
  let svc: StartedService;
  let client: Client;
  let cleanup: () => void;
  let path: string;

  beforeAll(async () => {
    const temp = tempDir();
    cleanup = temp.cleanup;
    path = join(temp.dir, 'runaway.db');
    svc = await startService(service, {
      env: { DATABASE_PATH: path, MCP_TOOL_TIMEOUT_MS: String(TIMEOUT_MS), MCP_RATE_LIMIT: '0' },
    });
    client = await connectClient(svc.url, 'streamable-http');
    expect(
      (await callRpc(svc.url, 'create_table', { table_name: 't', schema: { id: 'INTEGER PRIMARY KEY', v: 'INTEGER' } }))
        .isError,
    ).toBeFalsy();
    // Start both readers and the writer now, so that CPU use seen later is the statements', not start-up's.
    const warm = await Promise.all([
      callRpc(svc.url, 'execute_raw_query', { query: 'SELECT 0 AS zero' }),
      callRpc(svc.url, 'execute_raw_query', { query: 'SELECT 0 AS zero' }),
      callRpc(svc.url, 'insert_record', { table_name: 't', data: { v: 0 } }),
    ]);
    for (const result of warm) expect(result.isError).toBeFalsy();
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
    cleanup();
  });

  it('an endless read: /health and other calls are answered meanwhile, it times out on time, its process is killed', async () => {
    const readers = databaseChildPids('reader');
    expect(readers).toHaveLength(2);
    const ticks = new Map(readers.map((pid) => [pid, cpuTicks(pid)]));
    const endless = timed(client.callTool({ name: 'execute_raw_query', arguments: { query: ENDLESS_QUERY } }));
    await waitUntil(
      () => readers.some((pid) => cpuTicks(pid) >= (ticks.get(pid) ?? 0) + 10),
      10_000,
      'the read to run',
    );
    await expectHealthyMeanwhile(svc.url);
    const [tables, raw, write] = await Promise.all([
      timed(callRpc(svc.url, 'list_tables', {})),
      timed(callRpc(svc.url, 'execute_raw_query', { query: 'SELECT 1 AS one' })),
      timed(callRpc(svc.url, 'insert_record', { table_name: 't', data: { v: 1 } })),
    ]);
    expect(tables.value.structuredContent).toMatchObject({ tables: [{ name: 't' }], truncated: false });
    expect(raw.value.structuredContent).toMatchObject({ rows: [{ one: 1 }] });
    expect(write.value.isError).toBeFalsy();
    for (const { ms } of [tables, raw, write]) expect(ms).toBeLessThan(1000);

    const { value: result, ms } = await endless;
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]?.text).toBe(`execute_raw_query timed out after ${TIMEOUT_MS} ms`);
    expect(ms).toBeLessThan(TIMEOUT_MS + 2000);
    // The statement is stopped, not left burning a CPU: the process that ran it is gone.
    await waitUntil(() => readers.filter(isAlive).length === 1, 2000, "the endless read's process to be gone");
    expect((await callRpc(svc.url, 'execute_raw_query', { query: 'SELECT 2 AS two' })).structuredContent).toMatchObject(
      { rows: [{ two: 2 }] },
    );
    await callRpc(svc.url, 'delete_record', { table_name: 't', filters: { v: 1 } });
  });

  it('an endless write: /health and reads are answered meanwhile, it times out on time, is rolled back, and writes go on', async () => {
    const [writer] = databaseChildPids('writer');
    expect(writer).toBeDefined();
    const before = dumpDatabase(path).text;
    const since = cpuTicks(writer as number);
    const runaway = timed(
      client.callTool({ name: 'execute_raw_query', arguments: { query: runawayWrite('t', 'v'), read_only: false } }),
    );
    // Long enough for it to have inserted rows into its (uncommitted) transaction.
    await waitForCpu(writer as number, since, 30);
    await expectHealthyMeanwhile(svc.url);
    const { value: read, ms: readMs } = await timed(callRpc(svc.url, 'query_records', { table_name: 't' }));
    // Readers see the last committed state: none of the runaway write's rows.
    expect(read.structuredContent).toMatchObject({ total: 1, rows: [{ id: 1, v: 0 }] });
    expect(readMs).toBeLessThan(1000);

    const { value: result, ms } = await runaway;
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]?.text).toBe(`execute_raw_query timed out after ${TIMEOUT_MS} ms`);
    expect(ms).toBeLessThan(TIMEOUT_MS + 2000);
    // Writes go on, on a fresh writer. (A write queued behind a runaway one: database.test.ts.)
    expect(
      (await callRpc(svc.url, 'insert_record', { table_name: 't', data: { v: 2 } })).structuredContent,
    ).toMatchObject({ row: { v: 2 } });
    await waitUntil(() => !isAlive(writer as number), 2000, 'the runaway writer to be gone');
    // Nothing of the runaway write reached the file: only the insert after it, removed again here.
    await callRpc(svc.url, 'delete_record', { table_name: 't', filters: { v: 2 } });
    expect(dumpDatabase(path).text).toBe(before);
  });

  it('shuts down promptly with an endless read and an endless write running, leaving no database process', async () => {
    const temp = tempDir();
    const before = databaseChildPids();
    // A short grace: the shutdown aborts the calls in flight, whose processes are then killed.
    const other = await startService(service, {
      env: { DATABASE_PATH: join(temp.dir, 'other.db'), MCP_SHUTDOWN_GRACE_MS: '100' },
    });
    let closed = false;
    try {
      await callRpc(other.url, 'create_table', { table_name: 'w', schema: { v: 'INTEGER' } });
      const read = callRpc(other.url, 'execute_raw_query', { query: ENDLESS_QUERY });
      const write = callRpc(other.url, 'execute_raw_query', { query: runawayWrite('w', 'v'), read_only: false });
      await waitUntil(() => databaseChildPids().filter((pid) => !before.includes(pid)).length === 2, 10_000, 'both');
      const mine = databaseChildPids().filter((pid) => !before.includes(pid));
      const { ms } = await timed(other.close());
      closed = true;
      expect(ms).toBeLessThan(2000);
      // The calls in flight are answered (the shutdown's refusal), not left hanging.
      await Promise.allSettled([read, write]);
      await waitUntil(() => mine.every((pid) => !isAlive(pid)), 2000, 'every database process to be gone');
    } finally {
      // A failed assertion must not leave an endless statement behind.
      if (!closed) await other.close();
      temp.cleanup();
    }
  });
});

describe('a runaway write at SIGTERM, as a container stop sends it', () => {
  it('the process exits within the default shutdown grace, well before Docker kills it at 10 s, and nothing is written', async () => {
    const temp = tempDir();
    const path = join(temp.dir, 'stop.db');
    const proc = await startServiceProcess(serviceEntry, {
      cwd: serviceDir,
      env: { DATABASE_PATH: path, TSX_TSCONFIG_PATH: tsconfig },
    });
    try {
      await callRpc(proc.url, 'create_table', { table_name: 'w', schema: { v: 'INTEGER' } });
      const before = dumpDatabase(path).text;
      // create_table ran on the writer: it exists and is idle, so CPU it uses from here on is the write's
      await waitUntil(() => databaseChildPids('writer', proc.pid).length === 1, 10_000, 'the writer to start');
      const writer = databaseChildPids('writer', proc.pid)[0] as number;
      const since = cpuTicks(writer);
      // its answer (an error, or a refused connection once the process is gone) is not what this tests
      const write = callRpc(proc.url, 'execute_raw_query', { query: runawayWrite('w', 'v'), read_only: false }).catch(
        () => undefined,
      );
      await waitForCpu(writer, since, 30);
      const { value: exit, ms } = await timed(proc.stop('SIGTERM'));
      expect(exit).toEqual({ code: 0, signal: null });
      // MCP_SHUTDOWN_GRACE_MS (8 s) for calls to finish, then the runaway write is killed.
      expect(ms).toBeLessThan(9500);
      await write;
      await waitUntil(() => !isAlive(writer), 2000, 'the writer to be gone');
      expect(dumpDatabase(path).text).toBe(before);
    } finally {
      await proc.stop('SIGKILL');
      temp.cleanup();
    }
  }, 30_000);
});

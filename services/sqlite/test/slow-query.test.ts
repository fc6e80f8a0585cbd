import { join } from 'node:path';

import { connectClient, rpc, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { ENDLESS_QUERY, isAlive, queryChildPids, tempDir, waitUntil } from './helpers.js';

interface ToolResult {
  isError?: boolean;
  content: { text: string }[];
  structuredContent?: unknown;
}

async function callRpc(svc: StartedService, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  const response = await rpc(svc.url, 'tools/call', { name, arguments: args });
  return (response.body as { result: ToolResult }).result;
}

/** The promise's value and how long it took. */
async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await promise;
  return { value, ms: Date.now() - started };
}

describe('an endless read-only raw query', () => {
  let svc: StartedService;
  let client: Client;
  let cleanup: () => void;

  beforeAll(async () => {
    const temp = tempDir();
    cleanup = temp.cleanup;
    svc = await startService(service, {
      env: { DATABASE_PATH: join(temp.dir, 'slow.db'), MCP_TOOL_TIMEOUT_MS: '1000' },
    });
    client = await connectClient(svc.url, 'streamable-http');
    // Start both query processes now, so that the test measures answers, not process start-up.
    const warm = await Promise.all([0, 1].map(() => callRpc(svc, 'execute_raw_query', { query: 'SELECT 0 AS zero' })));
    for (const result of warm) expect(result.isError).toBeFalsy();
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
    cleanup();
  });

  it('times out on time, leaves the event loop free meanwhile, its process is killed, and raw queries work afterwards', async () => {
    const idle = queryChildPids();
    expect(idle).toHaveLength(2);
    const endless = timed(client.callTool({ name: 'execute_raw_query', arguments: { query: ENDLESS_QUERY } }));
    // Let the statement start in its process, then use another session (/rpc) while it runs.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [tables, raw] = await Promise.all([
      timed(callRpc(svc, 'list_tables', {})),
      timed(callRpc(svc, 'execute_raw_query', { query: 'SELECT 1 AS one' })),
    ]);
    expect(tables.value.structuredContent).toEqual({ tables: [] });
    expect(tables.ms).toBeLessThan(1000);
    expect(raw.value.structuredContent).toMatchObject({ rows: [{ one: 1 }] });
    expect(raw.ms).toBeLessThan(1000);

    const { value: result, ms } = await endless;
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]?.text).toContain('timed out after 1000 ms');
    expect(ms).toBeLessThan(2500);
    // The statement is stopped, not left burning a CPU: the process that ran it is gone.
    await waitUntil(() => idle.filter(isAlive).length === 1, 2000, "the endless query's process to be gone");

    const after = await callRpc(svc, 'execute_raw_query', { query: 'SELECT 2 AS two' });
    expect(after.isError).toBeFalsy();
    expect(after.structuredContent).toMatchObject({ rows: [{ two: 2 }] });
  });

  it('shuts down promptly with an endless query running, leaving no query process', async () => {
    const temp = tempDir();
    const before = queryChildPids();
    // A short grace: the shutdown aborts the call in flight, whose process is then killed.
    const other = await startService(service, {
      env: { DATABASE_PATH: join(temp.dir, 'other.db'), MCP_SHUTDOWN_GRACE_MS: '100' },
    });
    let closed = false;
    try {
      expect(
        (await callRpc(other, 'execute_raw_query', { query: 'SELECT 3 AS three' })).structuredContent,
      ).toMatchObject({ rows: [{ three: 3 }] });
      const endless = callRpc(other, 'execute_raw_query', { query: ENDLESS_QUERY });
      // A second query meanwhile starts the second process, idle once it has answered.
      expect(
        (await callRpc(other, 'execute_raw_query', { query: 'SELECT 4 AS four' })).structuredContent,
      ).toMatchObject({ rows: [{ four: 4 }] });
      const mine = queryChildPids().filter((pid) => !before.includes(pid));
      expect(mine).toHaveLength(2);
      const { ms } = await timed(other.close());
      closed = true;
      expect(ms).toBeLessThan(2000);
      // The call in flight is answered (the shutdown's refusal), not left hanging.
      await endless.catch(() => undefined);
      await waitUntil(() => mine.every((pid) => !isAlive(pid)), 2000, 'every query process to be gone');
    } finally {
      // A failed assertion must not leave an endless query process behind.
      if (!closed) await other.close();
      temp.cleanup();
    }
  });
});

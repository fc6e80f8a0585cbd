import { join } from 'node:path';

import { connectClient, rpc, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { SLOW_QUERY, tempDir } from './helpers.js';

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

describe('an expensive read-only raw query', () => {
  let svc: StartedService;
  let client: Client;
  let cleanup: () => void;

  beforeAll(async () => {
    const temp = tempDir();
    cleanup = temp.cleanup;
    svc = await startService(service, {
      env: { DATABASE_PATH: join(temp.dir, 'slow.db'), MCP_TOOL_TIMEOUT_MS: '300' },
    });
    client = await connectClient(svc.url, 'streamable-http');
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
    cleanup();
  });

  it('times out on time, leaves the event loop free meanwhile, and raw queries work afterwards', async () => {
    const slow = timed(client.callTool({ name: 'execute_raw_query', arguments: { query: SLOW_QUERY } }));
    // Let the statement start on its worker, then use another session (/rpc) while it runs.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [tables, raw] = await Promise.all([
      timed(callRpc(svc, 'list_tables', {})),
      timed(callRpc(svc, 'execute_raw_query', { query: 'SELECT 1 AS one' })),
    ]);
    expect(tables.value.structuredContent).toEqual({ tables: [] });
    expect(tables.ms).toBeLessThan(1000);
    expect(raw.value.structuredContent).toMatchObject({ rows: [{ one: 1 }] });
    expect(raw.ms).toBeLessThan(1000);

    const { value: result, ms } = await slow;
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]?.text).toContain('timed out after 300 ms');
    expect(ms).toBeLessThan(2000);

    // The abandoned statement still holds one worker; the other slot serves new queries.
    const after = await callRpc(svc, 'execute_raw_query', { query: 'SELECT 2 AS two' });
    expect(after.isError).toBeFalsy();
    expect(after.structuredContent).toMatchObject({ rows: [{ two: 2 }] });
  });

  it('still shuts down promptly (the close hook terminates the workers)', async () => {
    const temp = tempDir();
    const other = await startService(service, { env: { DATABASE_PATH: join(temp.dir, 'other.db') } });
    try {
      expect(
        (await callRpc(other, 'execute_raw_query', { query: 'SELECT 3 AS three' })).structuredContent,
      ).toMatchObject({ rows: [{ three: 3 }] });
      const { ms } = await timed(other.close());
      expect(ms).toBeLessThan(2000);
    } finally {
      temp.cleanup();
    }
  });
});

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { connectClient, type StartedService, startService, waitUntil } from '../../testing/src/index.js';
import { echoService } from './helpers/echo-service.js';

type Deps = { calls: number; finished: string[]; aborted: string[] };

describe.each(['sse', 'streamable-http'] as const)('tools over %s', (kind) => {
  let svc: StartedService;
  let client: Client;
  beforeAll(async () => {
    svc = await startService(echoService, { env: { MCP_TOOL_TIMEOUT_MS: '400' } });
  });
  afterAll(async () => svc.close());
  afterEach(async () => client?.close());
  const deps = () => svc.app.mcp.deps as Deps;

  it('initializes with server info, tools and logging capabilities', async () => {
    client = await connectClient(svc.url, kind);
    expect(client.getServerVersion()).toMatchObject({ name: 'mcp-echo', version: '1.2.3' });
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, logging: {} });
  });

  it('lists the default toolsets with 2020-12 input schemas and all annotations', async () => {
    client = await connectClient(svc.url, kind);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['echo', 'slow', 'fail', 'write_thing']);
    const echo = tools[0]!;
    expect(echo.inputSchema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { message: { type: 'string' } },
      required: ['message'],
    });
    expect(echo.outputSchema).toMatchObject({ type: 'object', properties: { message: { type: 'string' } } });
    expect(echo.annotations).toEqual({
      title: 'Echo',
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
  });

  it('returns structuredContent and the same JSON as a text block', async () => {
    client = await connectClient(svc.url, kind);
    const result = await client.callTool({ name: 'echo', arguments: { message: 'héllo' } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ message: 'héllo' });
    expect(result.content).toEqual([{ type: 'text', text: JSON.stringify({ message: 'héllo' }) }]);
  });

  it('answers an unknown tool with JSON-RPC -32602, not a tool result', async () => {
    client = await connectClient(svc.url, kind);
    const error = await client.callTool({ name: 'nope', arguments: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32602);
    expect((error as McpError).message).toContain('Unknown tool: nope');
  });

  it('answers invalid arguments with an isError result naming the field', async () => {
    client = await connectClient(svc.url, kind);
    const result = await client.callTool({ name: 'echo', arguments: { message: 42 } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/Invalid arguments for echo: message: .*string/);
    const missing = await client.callTool({ name: 'echo', arguments: {} });
    expect(missing.isError).toBe(true);
  });

  it('passes a ServiceError message through and hides unexpected errors', async () => {
    client = await connectClient(svc.url, kind);
    const expected = await client.callTool({ name: 'fail', arguments: { kind: 'service' } });
    expect(expected).toMatchObject({ isError: true, content: [{ type: 'text', text: 'No such thing: widget 7' }] });
    const crash = await client.callTool({ name: 'fail', arguments: { kind: 'crash' } });
    expect(crash).toMatchObject({ isError: true, content: [{ type: 'text', text: 'Internal error' }] });
    expect(JSON.stringify(crash)).not.toContain('hunter2');
  });

  it('sends progress notifications when the client asks for them', async () => {
    client = await connectClient(svc.url, kind);
    const seen: Array<{ progress: number; total?: number; message?: string }> = [];
    const result = await client.callTool({ name: 'slow', arguments: { ms: 60, steps: 3 } }, undefined, {
      onprogress: (p) => seen.push(p),
    });
    expect(result.structuredContent).toEqual({ waited: 60 });
    // The SDK client handles notifications a microtask late and drops progress that lands in the
    // same chunk as the response, so the last step may be missing: the rest must be in order.
    const expected = [1, 2, 3].map((i) => ({ progress: i, total: 3, message: `step ${i}` }));
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual(expected.slice(0, seen.length));
  });

  it('sends log messages at or above the level the client set', async () => {
    client = await connectClient(svc.url, kind);
    const messages: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      messages.push(n.params);
    });
    await client.setLoggingLevel('info');
    await client.callTool({ name: 'slow', arguments: { ms: 10, steps: 1 } });
    await waitUntil(() => messages.length > 0, 'the log message');
    expect(messages).toEqual([{ level: 'info', logger: 'slow', data: { starting: 10 } }]);
    await client.setLoggingLevel('debug');
    messages.length = 0;
    await client.callTool({ name: 'slow', arguments: { ms: 10, steps: 1 } });
    await waitUntil(() => messages.length >= 2, 'both log messages');
    expect(messages).toEqual([
      { level: 'info', logger: 'slow', data: { starting: 10 } },
      { level: 'debug', logger: 'slow', data: { detail: 'debug-level' } },
    ]);
  });

  it('times out a long call below the client deadline and aborts the handler', async () => {
    client = await connectClient(svc.url, kind);
    const tag = `timeout-${kind}`;
    const result = await client.callTool({ name: 'slow', arguments: { ms: 5000, steps: 1, tag } });
    expect(result).toMatchObject({ isError: true, content: [{ type: 'text', text: 'slow timed out after 400 ms' }] });
    await waitUntil(() => deps().aborted.includes(tag), 'the timeout aborts the handler');
    expect(deps().finished).not.toContain(tag);
  });

  it('aborts the handler when the client cancels', async () => {
    client = await connectClient(svc.url, kind);
    const tag = `cancel-${kind}`;
    const controller = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: { ms: 300, steps: 1, tag } }, undefined, {
      signal: controller.signal,
    });
    await waitUntil(() => svc.app.mcp.registry.pending === 1, 'the call runs');
    controller.abort('user cancelled');
    await expect(call).rejects.toThrow();
    await waitUntil(() => deps().aborted.includes(tag), 'the cancellation aborts the handler');
  });

  it('returns rich content blocks for tools that declare them', async () => {
    const extra = await startService(echoService, { env: { MCP_TOOLSETS: 'extra' } });
    try {
      client = await connectClient(extra.url, kind);
      const result = await client.callTool({ name: 'get_pixel', arguments: {} });
      expect(result.content).toEqual([{ type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' }]);
      expect(result.structuredContent).toEqual({ mime_type: 'image/png', size: 8 });
      await client.close();
    } finally {
      await extra.close();
    }
  });
});

import { type StartedService, startService } from '@mcp-sse/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { fixtureService } from '../src/fixture-service.js';
import { fixtureTools } from '../src/fixture-tools.js';

// The conformance suite speaks Streamable HTTP only; this drives the fixture over legacy SSE as well,
// so that extendServer and ctx.session are known to work on both session transports.
describe.each(['sse', 'streamable-http'] as const)('the conformance fixture over %s', (kind) => {
  let svc: StartedService;
  let client: Client;
  beforeAll(async () => {
    svc = await startService(fixtureService);
  });
  afterAll(async () => svc.close());
  afterEach(async () => client.close());

  const connect = async () => {
    client = new Client(
      { name: 'fixture-test', version: '1.0.0' },
      { capabilities: { sampling: {}, elicitation: {} } },
    );
    await client.connect(
      kind === 'sse'
        ? new SSEClientTransport(new URL('/sse', svc.url))
        : new StreamableHTTPClientTransport(new URL('/mcp', svc.url)),
    );
  };

  it('declares tools, resources, prompts, completions and logging', async () => {
    await connect();
    expect(client.getServerCapabilities()).toMatchObject({
      tools: {},
      logging: {},
      resources: { subscribe: true },
      prompts: {},
      completions: {},
    });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(fixtureTools.map((tool) => tool.name));
    expect(tools.find((tool) => tool.name === 'json_schema_2020_12_tool')?.inputSchema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { address: { type: 'object' } },
      properties: { address: { $ref: '#/$defs/address' } },
      additionalProperties: false,
    });
  });

  it('reads static and templated resources and refuses unknown ones with -32002', async () => {
    await connect();
    expect((await client.listResources()).resources.map((r) => r.uri)).toEqual([
      'test://static-text',
      'test://static-binary',
      'test://watched-resource',
    ]);
    const templated = await client.readResource({ uri: 'test://template/42/data' });
    expect(JSON.parse((templated.contents[0] as { text: string }).text)).toEqual({
      id: '42',
      templateTest: true,
      data: 'Data for ID: 42',
    });
    const missing = await client.readResource({ uri: 'test://nope' }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(McpError);
    expect((missing as McpError).code).toBe(-32002);
    await expect(client.subscribeResource({ uri: 'test://watched-resource' })).resolves.toEqual({});
  });

  it('renders prompts with their arguments and completes argument values', async () => {
    await connect();
    const prompt = await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'a', arg2: 'b' } });
    expect(prompt.messages).toEqual([
      { role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='a', arg2='b'" } },
    ]);
    await expect(client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'a' } })).rejects.toThrow(
      'Prompt test_prompt_with_arguments needs argument(s): arg2',
    );
  });

  it('completes prompt arguments by prefix', async () => {
    await connect();
    const result = await client.complete({
      ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
      argument: { name: 'arg1', value: 'par' },
    });
    expect(result.completion).toEqual({ values: ['paris', 'park', 'party'], total: 3, hasMore: false });
  });

  it('samples and elicits through the calling session', async () => {
    await connect();
    client.setRequestHandler(CreateMessageRequestSchema, () => ({
      role: 'assistant',
      content: { type: 'text', text: 'pong' },
      model: 'm',
    }));
    client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'decline' }));
    const sampled = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'ping' } });
    expect(sampled.content).toEqual([{ type: 'text', text: 'LLM response: pong' }]);
    const elicited = await client.callTool({ name: 'test_elicitation', arguments: { message: 'who?' } });
    expect(elicited.structuredContent).toEqual({
      text: 'User response: action=decline, content={}',
      action: 'decline',
    });
  });
});

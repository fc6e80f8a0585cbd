import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolRequestSchema,
  type ClientCapabilities,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  ListPromptsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import {
  httpRequest,
  INITIALIZE_BODY,
  MCP_POST_HEADERS,
  parseSseEvents,
  rpc,
  type StartedService,
  startService,
} from '../../testing/src/index.js';
import {
  type BaseConfig,
  baseConfigSchema,
  defineService,
  loadConfig,
  ServiceError,
  toolDefiner,
  ToolRegistry,
} from '../src/index.js';
import { createSessionEngine } from '../src/mcp/session-engine.js';

/** What the extension saw, to prove it ran once per session with the session's facts. */
interface Deps {
  extended: string[];
}
const tool = toolDefiner<BaseConfig, Deps, 'main'>();
const annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true };

const askModel = tool({
  name: 'ask_model',
  title: 'Ask the model',
  toolset: 'main',
  description: 'Asks the client for a completion (sampling).',
  input: z.object({ prompt: z.string() }),
  output: z.object({ answer: z.string(), model: z.string() }),
  annotations,
  handler: async ({ prompt }, ctx) => {
    if (!ctx.session) throw new ServiceError('UNAVAILABLE', 'ask_model: no session here');
    const result = await ctx.session.createMessage({
      messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
      maxTokens: 10,
    });
    return { answer: result.content.type === 'text' ? result.content.text : '', model: result.model };
  },
});

const askUser = tool({
  name: 'ask_user',
  title: 'Ask the user',
  toolset: 'main',
  description: 'Asks the user for a name (elicitation).',
  input: z.object({}),
  output: z.object({ action: z.string(), name: z.string().optional() }),
  annotations,
  handler: async (_input, ctx) => {
    if (!ctx.session) throw new ServiceError('UNAVAILABLE', 'ask_user: no session here');
    const result = await ctx.session.elicit({
      message: 'Your name?',
      requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    });
    const name = result.content?.['name'];
    return { action: result.action, ...(typeof name === 'string' ? { name } : {}) };
  },
});

const embed = tool({
  name: 'embed_note',
  title: 'Embed a note',
  toolset: 'main',
  description: 'Returns a text resource embedded in the result.',
  input: z.object({}),
  output: z.object({ uri: z.string(), text: z.string() }),
  annotations,
  content: ({ uri, text }) => [{ type: 'resource', resource: { uri, mimeType: 'text/plain', text } }],
  handler: async () => ({ uri: 'note://1', text: 'hello' }),
});

const embedNothing = tool({
  name: 'embed_nothing',
  title: 'Embed nothing',
  toolset: 'main',
  description: 'A definition bug: a resource block without a resource.',
  input: z.object({}),
  annotations,
  content: () => [{ type: 'resource' }],
  handler: async () => ({}),
});

const logTwice = tool({
  name: 'log_twice',
  title: 'Log twice',
  toolset: 'main',
  description: 'Logs at debug and at warning, then answers.',
  input: z.object({}),
  annotations,
  handler: async (_input, ctx) => {
    await ctx.log('debug', 'quiet detail');
    await ctx.log('warning', 'loud news');
    return { done: true };
  },
});

const extendedService = defineService<BaseConfig, Deps>({
  name: 'extended',
  version: '1.0.0',
  config: baseConfigSchema,
  toolsets: { main: { description: 'all', default: true } },
  tools: [askModel, askUser, embed, embedNothing, logTwice],
  createContext: () => ({ extended: [] }),
  extendServer: (server, ctx) => {
    ctx.deps.extended.push(`${ctx.transport}:${ctx.identity.id}`);
    server.registerCapabilities({ prompts: { listChanged: false } });
    server.setRequestHandler(ListPromptsRequestSchema, () => ({
      prompts: [{ name: 'greet', description: 'Says hello' }],
    }));
  },
});

type Kind = 'sse' | 'streamable-http';

async function connect(url: string, kind: Kind, capabilities: ClientCapabilities = {}): Promise<Client> {
  const client = new Client({ name: 'extensions-test', version: '1.0.0' }, { capabilities });
  const transport =
    kind === 'sse'
      ? new SSEClientTransport(new URL('/sse', url))
      : new StreamableHTTPClientTransport(new URL('/mcp', url));
  await client.connect(transport);
  return client;
}

describe.each(['sse', 'streamable-http'] as const)('service extensions over %s', (kind) => {
  let svc: StartedService;
  let client: Client | undefined;
  beforeAll(async () => {
    svc = await startService(extendedService);
  });
  afterAll(async () => svc.close());
  afterEach(async () => {
    await client?.close();
    client = undefined;
  });

  it('adds what extendServer declares to each session, next to the registry tools', async () => {
    const before = (svc.app.mcp.deps as Deps).extended.length;
    client = await connect(svc.url, kind);
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, logging: {}, prompts: {} });
    expect((await client.listPrompts()).prompts).toEqual([{ name: 'greet', description: 'Says hello' }]);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual([
      'ask_model',
      'ask_user',
      'embed_note',
      'embed_nothing',
      'log_twice',
    ]);
    expect((svc.app.mcp.deps as Deps).extended.slice(before)).toEqual([`${kind}:anonymous`]);
  });

  it('lets a tool ask the client for sampling through ctx.session', async () => {
    client = await connect(svc.url, kind, { sampling: {} });
    const prompts: unknown[] = [];
    client.setRequestHandler(CreateMessageRequestSchema, (request) => {
      prompts.push(request.params.messages[0]?.content);
      return { role: 'assistant', content: { type: 'text', text: 'forty-two' }, model: 'test-model' };
    });
    const result = await client.callTool({ name: 'ask_model', arguments: { prompt: 'meaning?' } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ answer: 'forty-two', model: 'test-model' });
    expect(prompts).toEqual([{ type: 'text', text: 'meaning?' }]);
  });

  it('lets a tool elicit input from the user through ctx.session', async () => {
    client = await connect(svc.url, kind, { elicitation: {} });
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      expect(request.params.message).toBe('Your name?');
      return { action: 'accept', content: { name: 'Ada' } };
    });
    const result = await client.callTool({ name: 'ask_user', arguments: {} });
    expect(result.structuredContent).toEqual({ action: 'accept', name: 'Ada' });
  });

  it('refuses sampling and elicitation the client did not declare, without asking it', async () => {
    client = await connect(svc.url, kind);
    const sampling = await client.callTool({ name: 'ask_model', arguments: { prompt: 'x' } });
    expect(sampling.isError).toBe(true);
    expect(sampling.content).toEqual([{ type: 'text', text: 'The client does not support sampling/createMessage' }]);
    const elicitation = await client.callTool({ name: 'ask_user', arguments: {} });
    expect(elicitation.content).toEqual([{ type: 'text', text: 'The client does not support elicitation/create' }]);
  });

  it('reports an error answer from the client as a tool error naming the request', async () => {
    client = await connect(svc.url, kind, { sampling: {} });
    client.setRequestHandler(CreateMessageRequestSchema, () => {
      throw new McpError(ErrorCode.InvalidRequest, 'user declined');
    });
    const result = await client.callTool({ name: 'ask_model', arguments: { prompt: 'x' } });
    expect(result.isError).toBe(true);
    const [block, ...rest] = result.content as { type: string; text: string }[];
    expect(rest).toEqual([]);
    expect(block?.type).toBe('text');
    expect(block?.text).toMatch(/^The client answered sampling\/createMessage with an error: .*user declined/);
  });

  it('returns resource content blocks as embedded resources', async () => {
    client = await connect(svc.url, kind);
    const result = await client.callTool({ name: 'embed_note', arguments: {} });
    expect(result.content).toEqual([
      { type: 'resource', resource: { uri: 'note://1', mimeType: 'text/plain', text: 'hello' } },
    ]);
    expect(result.structuredContent).toEqual({ uri: 'note://1', text: 'hello' });
    const broken = await client.callTool({ name: 'embed_nothing', arguments: {} });
    expect(broken).toMatchObject({ isError: true, content: [{ type: 'text', text: 'Internal error' }] });
  });
});

describe('service extensions, transport-independent', () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(extendedService);
  });
  afterAll(async () => svc.close());

  it('gives /rpc calls no session (there is no way back to the client)', async () => {
    const res = await rpc(svc.url, 'tools/call', { name: 'ask_model', arguments: { prompt: 'x' } });
    expect(res.body).toMatchObject({
      result: { isError: true, content: [{ type: 'text', text: 'ask_model: no session here' }] },
    });
  });

  it('refuses an extension that would take tools/call away from the registry', () => {
    const config = loadConfig(baseConfigSchema, {});
    const registry = new ToolRegistry({ service: 'x', tools: [], toolsets: {}, config, deps: {} });
    expect(() =>
      createSessionEngine({
        name: 'x',
        version: '1',
        registry,
        identity: { id: 'anonymous', authenticated: false },
        rateKey: 'test',
        transport: 'streamable-http',
        logger: pino({ level: 'silent' }),
        directToolCalls: true,
        extend: (server) => server.setRequestHandler(CallToolRequestSchema, () => ({ content: [] })),
      }),
    ).toThrow('extendServer must not handle tools/call: tools are served by the registry only');
  });

  it("sends a tool's log messages on the call's own stream, filtered by logging/setLevel", async () => {
    // A Streamable HTTP client need not open the GET stream: messages about a call belong on its POST stream.
    const init = await httpRequest(`${svc.url}/mcp`, {
      method: 'POST',
      headers: MCP_POST_HEADERS,
      body: JSON.stringify(INITIALIZE_BODY),
    });
    const headers = {
      ...MCP_POST_HEADERS,
      'mcp-session-id': init.headers['mcp-session-id'] as string,
      'mcp-protocol-version': '2025-11-25',
    };
    const post = (message: object) =>
      httpRequest(`${svc.url}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', ...message }) });
    expect((await post({ method: 'notifications/initialized' })).status).toBe(202);
    expect((await post({ id: 2, method: 'logging/setLevel', params: { level: 'info' } })).text).toContain(
      '"result":{}',
    );
    const call = await post({ id: 3, method: 'tools/call', params: { name: 'log_twice', arguments: {} } });
    const messages = parseSseEvents(call.text).map(
      (event) => JSON.parse(event.data) as { method?: string; params?: unknown; id?: number },
    );
    expect(messages.filter((m) => m.method === 'notifications/message').map((m) => m.params)).toEqual([
      { level: 'warning', logger: 'log_twice', data: 'loud news' },
    ]);
    expect(messages.at(-1)).toMatchObject({ id: 3, result: { structuredContent: { done: true } } });
  });
});

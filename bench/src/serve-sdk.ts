import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * What a user would write instead of the core: the SDK's own examples (simpleSseServer,
 * sseAndStreamableHttpCompatibleServer) on plain node:http. A new McpServer and transport per
 * session, the tool registered with registerTool and a zod schema. Deliberately generous to the
 * baseline: no request logging, no event store, no auth, host or rate-limit checks.
 */
const port = Number(process.env['PORT'] ?? 0);

function getServer(): McpServer {
  const server = new McpServer({ name: 'sdk-example', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool(
    'echo',
    {
      title: 'Echo',
      description: 'Returns its message.',
      inputSchema: { message: z.string().max(10_000) },
      outputSchema: { message: z.string() },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ message }) => ({
      content: [{ type: 'text', text: JSON.stringify({ message }) }],
      structuredContent: { message },
    }),
  );
  return server;
}

const sseTransports = new Map<string, SSEServerTransport>();
const httpTransports = new Map<string, StreamableHTTPServerTransport>();

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length === 0 ? undefined : (JSON.parse(text) as unknown);
}

async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = req.method === 'POST' ? await readJson(req) : undefined;
  const header = req.headers['mcp-session-id'];
  const sessionId = typeof header === 'string' ? header : undefined;
  let transport = sessionId ? httpTransports.get(sessionId) : undefined;
  if (!transport) {
    if (sessionId)
      return sendJson(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return sendJson(res, 400, { jsonrpc: '2.0', error: { code: -32000, message: 'No valid session ID' }, id: null });
    }
    const created = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        httpTransports.set(id, created);
      },
    });
    created.onclose = () => {
      if (created.sessionId) httpTransports.delete(created.sessionId);
    };
    await getServer().connect(created);
    transport = created;
  }
  await transport.handleRequest(req, res, body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/mcp') return handleMcp(req, res);
  if (url.pathname === '/sse' && req.method === 'GET') {
    const transport = new SSEServerTransport('/messages', res);
    const id = transport.sessionId;
    sseTransports.set(id, transport);
    transport.onclose = () => sseTransports.delete(id);
    await getServer().connect(transport);
    return;
  }
  if (url.pathname === '/messages' && req.method === 'POST') {
    const transport = sseTransports.get(url.searchParams.get('sessionId') ?? '');
    if (!transport) return sendJson(res, 404, { error: 'Session not found' });
    return transport.handlePostMessage(req, res);
  }
  sendJson(res, 404, { error: 'not found' });
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent)
      sendJson(res, 500, { jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
// A clean exit on SIGTERM, so that --cpu-prof can write its profile.
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

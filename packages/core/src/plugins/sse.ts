import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { ERROR_CODES } from '../errors.js';
import { rpcError } from '../json-rpc.js';
import { findSession, type Session } from '../sessions.js';
import type { CoreState } from '../state.js';

/**
 * The legacy HTTP+SSE transport (MCP 2024-11-05), which LiteLLM's `transport: sse` speaks:
 * GET /sse opens the stream and announces `/messages?sessionId=…`; the client POSTs there and
 * answers arrive on the stream. The SDK transport sends no keepalive and no X-Accel-Buffering:
 * the core adds both so that nginx and Python clients keep the stream open.
 */
export function ssePlugin(app: FastifyInstance, state: CoreState, done: (err?: Error) => void): void {
  const open = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!(await state.reserveSession())) {
      return reply
        .code(503)
        .header('retry-after', '5')
        .send(rpcError(ERROR_CODES.UNAVAILABLE.jsonRpc, 'Too many sessions (MCP_MAX_SESSIONS)'));
    }
    const res = reply.raw;
    reply.hijack();
    res.setHeader('X-Accel-Buffering', 'no');
    const transport = new SSEServerTransport('/messages', res);
    const server = state.createServer(request.identity, request.rateKey, 'sse');
    const now = Date.now();
    let heartbeat: NodeJS.Timeout | undefined;
    const session: Session = {
      id: transport.sessionId,
      kind: 'sse',
      identity: request.identity,
      transport,
      createdAt: now,
      lastSeen: now,
      openStreams: 1,
      active: 0,
      engine: server,
      close: () => server.close(),
    };
    server.server.onclose = () => {
      if (heartbeat) clearInterval(heartbeat);
      if (state.sessions.delete(session.id)) state.metrics.openSessions.dec({ transport: 'sse' });
    };
    state.sessions.set(session);
    state.metrics.openSessions.inc({ transport: 'sse' });
    await server.connect(transport);
    const every = state.config.MCP_SSE_HEARTBEAT_MS;
    if (every > 0) {
      heartbeat = setInterval(() => {
        if (!res.writableEnded) res.write(': keepalive\n\n');
      }, every);
      heartbeat.unref();
    }
  };
  app.get('/sse', open);
  // The original plan's name for the stream.
  app.get('/mcp/v1/sse', open);

  app.post('/messages', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const sessionId = query['sessionId'];
    if (!sessionId) {
      return reply.code(400).send(rpcError(-32000, 'Bad Request: sessionId query parameter is required'));
    }
    const session = findSession(state.sessions, sessionId, 'sse', request.identity);
    if (!session) {
      return reply.code(404).send(rpcError(-32001, 'Session not found'));
    }
    session.lastSeen = Date.now();
    reply.hijack();
    await (session.transport as SSEServerTransport).handlePostMessage(request.raw, reply.raw, request.body);
  });
  done();
}

import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { httpFailure } from '../errors.js';
import { keepStreamAlive, SSE_HEADERS } from '../http/sse-writer.js';
import { findSession, type SseSession } from '../sessions/session.js';
import type { CoreState } from '../state.js';

/**
 * The legacy HTTP+SSE transport (MCP 2024-11-05), which LiteLLM's `transport: sse` speaks:
 * GET /sse opens the stream and announces `/messages?sessionId=…`; the client POSTs there and
 * answers arrive on the stream. The SDK transport writes the stream; the core adds the SSE headers
 * it lacks (X-Accel-Buffering) and keepalive comments, so that nginx and Python clients keep it open.
 */
export function ssePlugin(app: FastifyInstance, state: CoreState, done: (err?: Error) => void): void {
  const open = async (request: FastifyRequest, reply: FastifyReply) => {
    const refused = await state.admission.reserve(request.rateKey);
    if (refused) return reply.code(refused.status).headers(refused.headers).send(refused.body);
    const res = reply.raw;
    reply.hijack();
    state.limitStream(res);
    // The SDK's writeHead merges these with its own (the same content type and cache control).
    res.setHeader('x-accel-buffering', SSE_HEADERS['x-accel-buffering']);
    const transport = new SSEServerTransport('/messages', res);
    const engine = state.createEngine(request.identity, request.rateKey, 'sse');
    const now = Date.now();
    const session: SseSession = {
      id: transport.sessionId,
      kind: 'sse',
      identity: request.identity,
      quotaKey: request.rateKey,
      transport,
      createdAt: now,
      lastSeen: now,
      openStreams: 1,
      active: 0,
      engine,
      close: () => engine.close(),
    };
    engine.server.onclose = () => {
      state.admission.release(session);
    };
    state.admission.register(session);
    await engine.connect(transport);
    keepStreamAlive(res, state.config.MCP_SSE_HEARTBEAT_MS);
  };
  app.get('/sse', open);
  // The original plan's name for the stream.
  app.get('/mcp/v1/sse', open);

  app.post('/messages', async (request, reply) => {
    const sessionId = (request.query as Record<string, string | undefined>)['sessionId'];
    const failure = !sessionId
      ? httpFailure('SESSION_REQUIRED', 'Bad Request: sessionId query parameter is required')
      : undefined;
    const session = sessionId ? findSession(state.sessions, sessionId, 'sse', request.identity) : undefined;
    if (failure || !session) {
      const answer = failure ?? httpFailure('SESSION_NOT_FOUND', 'Session not found');
      return reply.code(answer.status).send(answer.body);
    }
    session.lastSeen = Date.now();
    reply.hijack();
    await session.transport.handlePostMessage(request.raw, reply.raw, request.body);
  });
  done();
}

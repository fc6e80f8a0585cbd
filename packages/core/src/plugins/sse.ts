import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { httpFailure } from '../errors.js';
import { deliver } from '../http/deliver.js';
import { createPublicPrefix } from '../http/public-prefix.js';
import { keepStreamAlive, SSE_HEADERS } from '../http/sse-writer.js';
import { storeRefusal } from '../http/store-refusal.js';
import { loadSessionModules } from '../mcp/session-modules.js';
import { isJsonRpcMessage, NOT_ONE_MESSAGE } from '../mcp/tool-call-message.js';
import { findSession, type SseSession } from '../sessions/session.js';
import type { CoreState } from '../state.js';

/**
 * The legacy HTTP+SSE transport (MCP 2024-11-05), which LiteLLM's `transport: sse` speaks:
 * GET /sse opens the stream and announces `/messages?sessionId=…` (under the proxy's path prefix,
 * if any); the client POSTs there and answers arrive on the stream. The SDK transport writes the stream; the core adds the SSE headers
 * it lacks (X-Accel-Buffering) and keepalive comments, so that nginx and Python clients keep it open.
 */
export function ssePlugin(app: FastifyInstance, state: CoreState, done: (err?: Error) => void): void {
  // Behind a path-prefixing proxy the announced endpoint must carry the prefix (http/public-prefix.ts).
  const prefixOf = createPublicPrefix({
    trustProxy: state.config.MCP_TRUST_PROXY,
    publicUrl: state.config.MCP_PUBLIC_URL ? new URL(state.config.MCP_PUBLIC_URL) : undefined,
  });
  const open = async (request: FastifyRequest, reply: FastifyReply) => {
    const { SSEServerTransport } = await loadSessionModules();
    const refused = storeRefusal(state) ?? (await state.admission.reserve(request.rateKey));
    if (refused) return reply.code(refused.status).headers(refused.headers).send(refused.body);
    const res = reply.raw;
    const transport = new SSEServerTransport(`${prefixOf(request.headers)}/messages`, res);
    const now = Date.now();
    if (state.cluster) {
      // Known to every replica before the client learns its id (the endpoint event, on connect).
      try {
        await state.cluster.directory.publish({
          id: transport.sessionId,
          identity: request.identity,
          kind: 'sse',
          createdAt: now,
          lastSeen: now,
        });
      } catch {
        const failure = storeRefusal(state, true)!;
        return reply.code(failure.status).headers(failure.headers).send(failure.body);
      }
    }
    reply.hijack();
    state.limitStream(res);
    // The SDK's writeHead merges these with its own (the same content type and cache control).
    res.setHeader('x-accel-buffering', SSE_HEADERS['x-accel-buffering']);
    const engine = state.createEngine(request.identity, request.rateKey, 'sse');
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
    if (!failure && !session && sessionId && state.cluster) {
      // Another replica may hold the stream: it answers there, this POST gets its 202 from it.
      reply.hijack();
      return state.cluster.forwarding.forward(
        {
          kind: 'sse',
          sessionId,
          method: 'POST',
          url: request.url,
          headers: request.headers,
          identity: request.identity,
          body: request.body,
        },
        reply.raw,
      );
    }
    if (failure || !session) {
      const answer = failure ?? httpFailure('SESSION_NOT_FOUND', 'Session not found');
      return reply.code(answer.status).send(answer.body);
    }
    if (!isJsonRpcMessage(request.body)) {
      const answer = httpFailure('INVALID_REQUEST', NOT_ONE_MESSAGE);
      return reply.code(answer.status).send(answer.body);
    }
    reply.hijack();
    await deliver(session, request.raw, reply.raw, request.body);
  });
  done();
}

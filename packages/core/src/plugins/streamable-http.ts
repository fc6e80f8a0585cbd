import { randomUUID } from 'node:crypto';

import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { type HttpFailure, httpFailure } from '../errors.js';
import { SSE_HEADERS } from '../http/sse-writer.js';
import { findSession, type StreamableHttpSession, trackRequest } from '../sessions/session.js';
import type { CoreState } from '../state.js';

function containsInitialize(body: unknown): boolean {
  return Array.isArray(body) ? body.some((message) => isInitializeRequest(message)) : isInitializeRequest(body);
}

/** What the SDK transport does not set on its SSE answers (its writeHead merges these in). */
const setSseHeaders = (reply: FastifyReply) =>
  reply.raw.setHeader('x-accel-buffering', SSE_HEADERS['x-accel-buffering']);

const refuse = (reply: FastifyReply, failure: HttpFailure) =>
  reply.code(failure.status).headers(failure.headers).send(failure.body);

/**
 * Streamable HTTP (MCP 2025-03-26 and later) on POST|GET|DELETE /mcp, which Open WebUI and
 * LiteLLM's `transport: http` speak. The SDK transport does the protocol (Accept → 406, content
 * type → 415, MCP-Protocol-Version → 400, its own session checks) and writes the streams, with
 * keepalive comments every MCP_SSE_HEARTBEAT_MS (its `keepAliveMs`); the core owns the session table
 * so that sessions are capped, expire when idle and stay bound to the identity that opened them.
 */
export function streamableHttpPlugin(app: FastifyInstance, state: CoreState, done: (err?: Error) => void): void {
  const { config } = state;
  const keepAliveMs = config.MCP_SSE_HEARTBEAT_MS > 0 ? config.MCP_SSE_HEARTBEAT_MS : 0;

  const stateless = async (request: FastifyRequest, reply: FastifyReply) => {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, keepAliveMs });
    const engine = state.createEngine(request.identity, request.rateKey, 'streamable-http');
    reply.raw.on('close', () => {
      void transport.close();
      void engine.close();
    });
    await engine.connect(transport);
    state.limitStream(reply.raw);
    setSseHeaders(reply);
    reply.hijack();
    await transport.handleRequest(request.raw, reply.raw, request.body);
  };

  const lookup = (request: FastifyRequest, reply: FastifyReply): StreamableHttpSession | undefined => {
    const header = request.headers['mcp-session-id'];
    if (typeof header !== 'string' || header.length === 0) {
      void refuse(reply, httpFailure('SESSION_REQUIRED', 'Bad Request: Mcp-Session-Id header is required'));
      return undefined;
    }
    const session = findSession(state.sessions, header, 'streamable-http', request.identity);
    if (!session) void refuse(reply, httpFailure('SESSION_NOT_FOUND', 'Session not found'));
    return session;
  };

  /** Hands one HTTP request to the session's transport, tracking activity for idle expiry. */
  const forward = async (
    session: StreamableHttpSession,
    request: FastifyRequest,
    reply: FastifyReply,
    stream: boolean,
  ) => {
    trackRequest(session, reply.raw, stream);
    state.limitStream(reply.raw);
    setSseHeaders(reply);
    reply.hijack();
    await session.transport.handleRequest(request.raw, reply.raw, request.body);
  };

  const open = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!containsInitialize(request.body)) {
      return refuse(reply, httpFailure('SESSION_REQUIRED', 'Bad Request: Mcp-Session-Id header is required'));
    }
    const refused = await state.admission.reserve(request.rateKey);
    if (refused) return refuse(reply, refused);
    const engine = state.createEngine(request.identity, request.rateKey, 'streamable-http');
    const now = Date.now();
    let session: StreamableHttpSession | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      keepAliveMs,
      onsessioninitialized: (id) => {
        session = {
          id,
          kind: 'streamable-http',
          identity: request.identity,
          quotaKey: request.rateKey,
          transport,
          createdAt: now,
          lastSeen: now,
          openStreams: 0,
          // The initialize request itself is being answered.
          active: 1,
          engine,
          close: () => engine.close(),
        };
        state.admission.register(session);
        reply.raw.once('close', () => {
          if (session) {
            session.active -= 1;
            session.lastSeen = Date.now();
          }
        });
      },
    });
    engine.server.onclose = () => {
      if (session) state.admission.release(session);
    };
    await engine.connect(transport);
    // An initialize that fails (bad version header, bad body) never creates a session: free its engine.
    reply.raw.once('close', () => {
      if (!session) void engine.close();
    });
    setSseHeaders(reply);
    reply.hijack();
    await transport.handleRequest(request.raw, reply.raw, request.body);
  };

  app.post('/mcp', async (request, reply) => {
    if (config.MCP_STATELESS) return stateless(request, reply);
    if (request.headers['mcp-session-id'] === undefined) return open(request, reply);
    const session = lookup(request, reply);
    if (session) await forward(session, request, reply, false);
  });

  const notAllowed = (reply: FastifyReply) =>
    refuse(
      reply,
      httpFailure('METHOD_NOT_ALLOWED', 'Method not allowed: this server is stateless (MCP_STATELESS=true); use POST', {
        headers: { allow: 'POST' },
      }),
    );

  app.get('/mcp', async (request, reply) => {
    if (config.MCP_STATELESS) return notAllowed(reply);
    const session = lookup(request, reply);
    if (session) await forward(session, request, reply, true);
  });

  app.delete('/mcp', async (request, reply) => {
    if (config.MCP_STATELESS) return notAllowed(reply);
    const session = lookup(request, reply);
    if (session) await forward(session, request, reply, false);
  });
  done();
}

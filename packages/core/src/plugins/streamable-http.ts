import { randomUUID } from 'node:crypto';

import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { ERROR_CODES } from '../errors.js';
import { rpcError } from '../json-rpc.js';
import { findSession, type Session, trackRequest } from '../sessions.js';
import type { CoreState } from '../state.js';

function containsInitialize(body: unknown): boolean {
  return Array.isArray(body) ? body.some((message) => isInitializeRequest(message)) : isInitializeRequest(body);
}

/**
 * Streamable HTTP (MCP 2025-03-26 and later) on POST|GET|DELETE /mcp, which Open WebUI and
 * LiteLLM's `transport: http` speak. The SDK transport does the protocol (Accept → 406, content
 * type → 415, MCP-Protocol-Version → 400, its own session checks); the core owns the session table
 * so that sessions are capped, expire when idle and stay bound to the identity that opened them.
 */
export function streamableHttpPlugin(app: FastifyInstance, state: CoreState, done: (err?: Error) => void): void {
  const { config } = state;
  const keepAliveMs = config.MCP_SSE_HEARTBEAT_MS > 0 ? config.MCP_SSE_HEARTBEAT_MS : undefined;

  const stateless = async (request: FastifyRequest, reply: FastifyReply) => {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, keepAliveMs });
    const server = state.createServer(request.identity, request.rateKey, 'streamable-http');
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    reply.hijack();
    await transport.handleRequest(request.raw, reply.raw, request.body);
  };

  const lookup = (request: FastifyRequest, reply: FastifyReply): Session | undefined => {
    const header = request.headers['mcp-session-id'];
    if (typeof header !== 'string' || header.length === 0) {
      void reply.code(400).send(rpcError(-32000, 'Bad Request: Mcp-Session-Id header is required'));
      return undefined;
    }
    const session = findSession(state.sessions, header, 'streamable-http', request.identity);
    if (!session) {
      void reply.code(404).send(rpcError(-32001, 'Session not found'));
      return undefined;
    }
    return session;
  };

  /** Hands one HTTP request to the session's transport, tracking activity for idle expiry. */
  const forward = async (session: Session, request: FastifyRequest, reply: FastifyReply, stream: boolean) => {
    trackRequest(session, reply.raw, stream);
    reply.hijack();
    await (session.transport as StreamableHTTPServerTransport).handleRequest(request.raw, reply.raw, request.body);
  };

  const open = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!containsInitialize(request.body)) {
      return reply.code(400).send(rpcError(-32000, 'Bad Request: Mcp-Session-Id header is required'));
    }
    if (!(await state.reserveSession())) {
      return reply
        .code(503)
        .header('retry-after', '5')
        .send(rpcError(ERROR_CODES.UNAVAILABLE.jsonRpc, 'Too many sessions (MCP_MAX_SESSIONS)'));
    }
    const server = state.createServer(request.identity, request.rateKey, 'streamable-http');
    const now = Date.now();
    const session: Session = {
      id: '',
      kind: 'streamable-http',
      identity: request.identity,
      transport: undefined as unknown as StreamableHTTPServerTransport,
      createdAt: now,
      lastSeen: now,
      openStreams: 0,
      active: 0,
      engine: server,
      close: () => server.close(),
    };
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      keepAliveMs,
      onsessioninitialized: (id) => {
        session.id = id;
        state.sessions.set(session);
        state.metrics.openSessions.inc({ transport: 'streamable-http' });
      },
    });
    session.transport = transport;
    server.server.onclose = () => {
      if (session.id && state.sessions.delete(session.id)) {
        state.metrics.openSessions.dec({ transport: 'streamable-http' });
      }
    };
    await server.connect(transport);
    // An initialize that fails (bad version header, bad body) never creates a session: free its engine.
    reply.raw.once('close', () => {
      if (!session.id) void server.close();
    });
    await forward(session, request, reply, false);
  };

  app.post('/mcp', async (request, reply) => {
    if (config.MCP_STATELESS) return stateless(request, reply);
    if (request.headers['mcp-session-id'] === undefined) return open(request, reply);
    const session = lookup(request, reply);
    if (session) await forward(session, request, reply, false);
  });

  const notAllowed = (reply: FastifyReply) =>
    reply
      .code(405)
      .header('allow', 'POST')
      .send(rpcError(-32000, 'Method not allowed: this server is stateless (MCP_STATELESS=true); use POST'));

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

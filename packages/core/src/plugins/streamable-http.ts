import { randomUUID } from 'node:crypto';

import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { type HttpFailure, httpFailure } from '../errors.js';
import { deliver } from '../http/deliver.js';
import { SSE_HEADERS } from '../http/sse-writer.js';
import { storeRefusal } from '../http/store-refusal.js';
import { loadSessionModules } from '../mcp/session-modules.js';
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
    const { StreamableHTTPServerTransport } = await loadSessionModules();
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

  /**
   * The session the request names, when this replica holds it. Otherwise the request is answered:
   * 400 without a session id, 404 for an unknown one; with a shared store, a POST or DELETE of a
   * session another replica holds is forwarded there, and a GET (a stream, which cannot move) gets
   * 405 so that the client goes on without the optional standalone stream.
   */
  const lookup = async (request: FastifyRequest, reply: FastifyReply): Promise<StreamableHttpSession | undefined> => {
    const header = request.headers['mcp-session-id'];
    if (typeof header !== 'string' || header.length === 0) {
      await refuse(reply, httpFailure('SESSION_REQUIRED', 'Bad Request: Mcp-Session-Id header is required'));
      return undefined;
    }
    const session = findSession(state.sessions, header, 'streamable-http', request.identity);
    if (session) return session;
    const { cluster } = state;
    if (cluster && (request.method === 'POST' || request.method === 'DELETE')) {
      reply.hijack();
      await cluster.forwarding.forward(
        {
          kind: 'streamable-http',
          sessionId: header,
          method: request.method,
          url: request.url,
          headers: request.headers,
          identity: request.identity,
          body: request.body,
        },
        reply.raw,
      );
      return undefined;
    }
    if (cluster && request.method === 'GET') {
      const found = await cluster.directory.lookup(header);
      if ('found' in found && found.found.identity === request.identity.id && found.found.kind === 'streamable-http') {
        await refuse(
          reply,
          httpFailure('METHOD_NOT_ALLOWED', 'Method not allowed: another replica holds this session; use POST', {
            headers: { allow: 'POST, DELETE' },
          }),
        );
        return undefined;
      }
    }
    await refuse(reply, httpFailure('SESSION_NOT_FOUND', 'Session not found'));
    return undefined;
  };

  const open = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!containsInitialize(request.body)) {
      return refuse(reply, httpFailure('SESSION_REQUIRED', 'Bad Request: Mcp-Session-Id header is required'));
    }
    const { StreamableHTTPServerTransport } = await loadSessionModules();
    const refused = storeRefusal(state) ?? (await state.admission.reserve(request.rateKey));
    if (refused) return refuse(reply, refused);
    const engine = state.createEngine(request.identity, request.rateKey, 'streamable-http');
    const now = Date.now();
    let session: StreamableHttpSession | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      keepAliveMs,
      onsessioninitialized: async (id) => {
        // Known to every replica before the client learns its id (the SDK awaits this hook). A store
        // that fails here fails the initialize.
        await state.cluster?.directory.publish({
          id,
          identity: request.identity,
          kind: 'streamable-http',
          createdAt: now,
          lastSeen: now,
        });
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
    state.limitStream(reply.raw);
    setSseHeaders(reply);
    reply.hijack();
    await transport.handleRequest(request.raw, reply.raw, request.body);
  };

  app.post('/mcp', async (request, reply) => {
    if (config.MCP_STATELESS) return stateless(request, reply);
    if (request.headers['mcp-session-id'] === undefined) return open(request, reply);
    const session = await lookup(request, reply);
    if (session) {
      state.limitStream(reply.raw);
      reply.hijack();
      await deliver(session, request.raw, reply.raw, request.body);
    }
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
    const session = await lookup(request, reply);
    if (session) {
      // The standalone stream: counted as an open stream, so that the session is not idle.
      trackRequest(session, reply.raw, true);
      state.limitStream(reply.raw);
      setSseHeaders(reply);
      reply.hijack();
      await session.transport.handleRequest(request.raw, reply.raw, request.body);
    }
  });

  app.delete('/mcp', async (request, reply) => {
    if (config.MCP_STATELESS) return notAllowed(reply);
    const session = await lookup(request, reply);
    if (session) {
      reply.hijack();
      await deliver(session, request.raw, reply.raw, request.body);
    }
  });
  done();
}

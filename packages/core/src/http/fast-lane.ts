import type { IncomingMessage, ServerResponse } from 'node:http';

import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';

import type { Identity } from '../define-tool.js';
import { type HttpFailure, httpFailure } from '../errors.js';
import { isJsonRpcMessage, isToolCallMessage, NOT_ONE_MESSAGE } from '../mcp/tool-call-message.js';
import type { SseSession, StreamableHttpSession } from '../sessions/session.js';
import { findSession, trackRequest } from '../sessions/session.js';
import type { CoreState } from '../state.js';
import { admit } from './admission.js';
import { isJsonContentType, PARSE_ERROR_MESSAGE, readJsonBody } from './json-body.js';
import type { createRpcHandler } from './rpc-handler.js';
import { scopeRefusal } from './scope-check.js';
import { keepStreamAlive, sseHeaders, sseMessageEvent } from './sse-writer.js';

/**
 * The fast lane (MCP_FAST_LANE, on by default): the three POSTs that carry tool calls
 * (`/messages?sessionId=`, `/mcp` on an open session, `/rpc`) served straight from node:http,
 * before fastify builds its request, reply, child logger and hook chain. Fastify's share of a call on
 * a long-lived session was a quarter of its cost in `pnpm bench`, for routing three fixed paths.
 *
 * The lane takes a request only when every check passes on its headers (the same `admit` as the
 * fastify hook, a known session of this identity, a JSON body of a known length within the limit);
 * anything else falls through to fastify untouched, which answers it as before. Once it has read a
 * body, the lane answers the common message itself (a tools/call, or any /rpc body) and hands the
 * rest to the same SDK transport calls the fastify routes make. With MCP_FAST_LANE=false every
 * request takes the fastify path; the test suites run both ways and compare the answers.
 */
export type Lane = (req: IncomingMessage, res: ServerResponse) => boolean;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export function createFastLane(state: CoreState, rpc: ReturnType<typeof createRpcHandler>): Lane {
  const { config } = state;
  let nextId = 0;
  const heartbeatMs = config.MCP_SSE_HEARTBEAT_MS;

  /** The request id, as fastify would take it (x-request-id) or make one. */
  const requestIdOf = (req: IncomingMessage): string => {
    const header = req.headers['x-request-id'];
    return typeof header === 'string' && header.length > 0 ? header : `lane-${(nextId++).toString(36)}`;
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown, requestId: string) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text), 'x-request-id': requestId });
    res.end(text);
  };
  const sendFailure = (res: ServerResponse, failure: HttpFailure, requestId: string) => {
    for (const [name, value] of Object.entries(failure.headers)) res.setHeader(name, value);
    sendJson(res, failure.status, failure.body, requestId);
  };
  const parseFailure = httpFailure('PARSE_ERROR', PARSE_ERROR_MESSAGE);

  /** What fastify's error handler does with a failure: log it, answer 500 if nothing was sent yet. */
  const failed = (res: ServerResponse, requestId: string) => (failure: unknown) => {
    state.logger.error({ err: failure, reqId: requestId }, 'request failed');
    if (res.headersSent) res.destroy();
    else sendFailure(res, httpFailure('INTERNAL', 'Internal error'), requestId);
  };

  /** Headers every lane request must pass; the identity, or undefined to leave it to fastify. */
  const admitted = (req: IncomingMessage): Identity | undefined => {
    const { headers } = req;
    if (!isJsonContentType(headers['content-type'])) return undefined;
    const length = Number(headers['content-length']);
    // Chunked bodies and empty ones keep fastify's handling (limit while streaming, "no body").
    if (!(length > 0 && length <= config.MCP_BODY_LIMIT) || headers['transfer-encoding'] !== undefined)
      return undefined;
    const admission = admit(state, headers, { path: req.url ?? '' });
    // A token that needs I/O to check (an external JWT not seen yet) goes to fastify, which waits.
    if (admission instanceof Promise) {
      admission.catch(() => undefined);
      return undefined;
    }
    if (!admission.ok) return undefined;
    // Behind a trusted proxy an anonymous caller is rate-limited by its forwarded address, which
    // fastify works out.
    if (config.MCP_TRUST_PROXY && !admission.identity.authenticated) return undefined;
    return admission.identity;
  };

  /** 403 insufficient_scope for an OAuth token that lacks a called tool's scope. */
  const refused = (res: ServerResponse, identity: Identity, path: string, body: unknown, requestId: string) => {
    const failure = scopeRefusal(state.registry, state.auth, identity, path, body);
    if (failure) sendFailure(res, failure, requestId);
    return failure !== undefined;
  };

  const messages = (req: IncomingMessage, res: ServerResponse, session: SseSession, requestId: string): void => {
    readJsonBody(req, (body, error) => {
      if (error !== undefined) return sendFailure(res, parseFailure, requestId);
      if (refused(res, session.identity, '/messages', body, requestId)) return;
      session.lastSeen = Date.now();
      if (isToolCallMessage(body)) {
        // What the SDK transport answers to any message it accepts; the answer rides the stream.
        res.writeHead(202, { 'x-request-id': requestId }).end('Accepted');
        session.engine.callTool(body);
        return;
      }
      if (!isJsonRpcMessage(body)) return sendFailure(res, httpFailure('INVALID_REQUEST', NOT_ONE_MESSAGE), requestId);
      res.setHeader('x-request-id', requestId);
      session.transport.handlePostMessage(req, res, body).catch(failed(res, requestId));
    });
  };

  const streamable = (
    req: IncomingMessage,
    res: ServerResponse,
    session: StreamableHttpSession,
    requestId: string,
  ): void => {
    readJsonBody(req, (body, error) => {
      if (error !== undefined) return sendFailure(res, parseFailure, requestId);
      if (refused(res, session.identity, '/mcp', body, requestId)) return;
      trackRequest(session, res, false);
      res.setHeader('x-request-id', requestId);
      if (!isToolCallMessage(body)) {
        session.transport.handleRequest(req, res, body).catch(failed(res, requestId));
        return;
      }
      // The answer is an SSE response with the call's notifications and then its result, as the SDK
      // transport writes it. The head is held back until the first message or the next turn of the
      // event loop, so that a call that finishes at once goes out in one write.
      let started = false;
      let stopKeepalive: (() => void) | undefined;
      const start = () => {
        if (started) return;
        started = true;
        res.writeHead(200, sseHeaders(session.id));
      };
      // The slow-consumer limit matters once more than one write can queue (a notification, a
      // keepalive); an answer that goes out at once is a single end(), which it never checks.
      const stream = () => {
        start();
        state.limitStream(res);
      };
      const finish = (last?: string) => {
        stopKeepalive?.();
        if (res.writableEnded || res.destroyed) return;
        start();
        res.end(last);
      };
      const cancel = session.engine.callTool(
        body,
        (message) => {
          if (res.writableEnded) return Promise.resolve();
          if ('id' in message && message.id === body.id && !('method' in message)) {
            finish(sseMessageEvent(message));
          } else {
            stream();
            res.write(sseMessageEvent(message));
          }
          return Promise.resolve();
        },
        // A call dropped without an answer (the session was deleted meanwhile) ends its stream, as
        // the SDK transport's close does.
        () => finish(),
      );
      res.once('close', () => {
        // A client that hangs up before the answer cancels the call.
        if (!res.writableEnded) cancel();
      });
      setImmediate(() => {
        if (res.writableEnded || res.destroyed) return;
        stream();
        res.flushHeaders();
        stopKeepalive = keepStreamAlive(res, heartbeatMs);
      });
    });
  };

  const rpcCall = (req: IncomingMessage, res: ServerResponse, identity: Identity, requestId: string): void => {
    readJsonBody(req, (body, error) => {
      if (error !== undefined) return sendFailure(res, parseFailure, requestId);
      if (refused(res, identity, '/rpc', body, requestId)) return;
      rpc(body, {
        identity,
        rateKey: identity.authenticated ? identity.id : `ip:${req.socket.remoteAddress ?? ''}`,
        requestId,
        logger: state.logger,
        response: res,
      }).then(
        (answer) => {
          if (answer.headers) for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
          if (answer.body === undefined) {
            res.writeHead(answer.status, { 'content-length': 0, 'x-request-id': requestId }).end();
            return;
          }
          sendJson(res, answer.status, answer.body, requestId);
        },
        failed(res, requestId),
      );
    });
  };

  // Fastify logs each request at debug (app.ts); the lane does the same for the ones it takes.
  const debug = state.logger.level === 'debug' || state.logger.level === 'trace';
  const logRequest = (req: IncomingMessage, res: ServerResponse, requestId: string) => {
    const started = performance.now();
    res.once('finish', () => {
      state.logger.debug(
        {
          reqId: requestId,
          method: req.method,
          url: req.url,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    });
  };

  /** Serves the request and returns its id, or returns undefined to leave it to fastify. */
  const take = (req: IncomingMessage, res: ServerResponse): string | undefined => {
    if (req.method !== 'POST') return undefined;
    const url = req.url ?? '';
    if (url === '/rpc') {
      const identity = admitted(req);
      if (!identity) return undefined;
      const requestId = requestIdOf(req);
      rpcCall(req, res, identity, requestId);
      return requestId;
    }
    if (url === '/mcp') {
      if (config.MCP_STATELESS) return undefined;
      const { headers } = req;
      const accept = headers.accept;
      const version = headers['mcp-protocol-version'];
      // The SDK transport's own checks (406, 400 on an unknown version) stay with it.
      if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
      if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version as string)) return undefined;
      const identity = admitted(req);
      if (!identity) return undefined;
      const id = headers['mcp-session-id'];
      const session = findSession(state.sessions, typeof id === 'string' ? id : undefined, 'streamable-http', identity);
      if (!session) return undefined;
      const requestId = requestIdOf(req);
      streamable(req, res, session, requestId);
      return requestId;
    }
    if (url.startsWith('/messages?sessionId=')) {
      const id = url.slice('/messages?sessionId='.length);
      if (id.includes('&') || id.includes('%')) return undefined;
      const identity = admitted(req);
      if (!identity) return undefined;
      const session = findSession(state.sessions, id, 'sse', identity);
      if (!session) return undefined;
      const requestId = requestIdOf(req);
      messages(req, res, session, requestId);
      return requestId;
    }
    return undefined;
  };
  return debug
    ? (req, res) => {
        const requestId = take(req, res);
        if (requestId !== undefined) logRequest(req, res, requestId);
        return requestId !== undefined;
      }
    : (req, res) => take(req, res) !== undefined;
}

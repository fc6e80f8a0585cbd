import type { IncomingMessage, ServerResponse } from 'node:http';

import type { JSONRPCMessage, RequestInfo } from '@modelcontextprotocol/sdk/types.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';

import type { Identity } from '../define-tool.js';
import { type HttpFailure, httpFailure } from '../errors.js';
import { isJsonRpcMessage, isNotRequest, isToolCallMessage, NOT_ONE_MESSAGE } from '../mcp/tool-call-message.js';
import type { SseSession, StreamableHttpSession } from '../sessions/session.js';
import { findSession, trackRequest } from '../sessions/session.js';
import type { CoreState } from '../state.js';
import { admit } from './admission.js';
import { isJsonContentType, PARSE_ERROR_MESSAGE, readJsonBody } from './json-body.js';
import type { createRpcHandler } from './rpc-handler.js';
import { scopeRefusal } from './scope-check.js';
import { keepStreamAlive, SSE_HEAD_HOLD_MS, SSE_HEADERS, sseHeaders, sseMessageEvent } from './sse-writer.js';

/**
 * The fast lane (MCP_FAST_LANE, on by default): the three POSTs that carry tool calls
 * (`/messages?sessionId=`, `/mcp` on an open session, `/rpc`), and the DELETE that ends a Streamable
 * HTTP session, served straight from node:http, before fastify builds its request, reply, child
 * logger and hook chain. Fastify's share of a call on a long-lived session was a quarter of its cost
 * in `pnpm bench`, for routing three fixed paths.
 *
 * The lane takes a request only when every check passes on its headers (the same `admit` as the
 * fastify hook, a known session of this identity, a JSON body of a known length within the limit);
 * anything else falls through to fastify untouched, which answers it as before. Once it has read a
 * body, the lane answers the common messages itself (a tools/call, any /rpc body, and on a session
 * what the SDK transports do with no more than a hand-over to the Protocol: any message on the
 * legacy transport, a notification or response on /mcp) and hands the rest to the same SDK
 * transport calls the fastify routes make. With MCP_FAST_LANE=false every request takes the fastify
 * path; the test suites run both ways and compare the answers.
 */
export type Lane = (req: IncomingMessage, res: ServerResponse) => boolean;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/**
 * The request information a transport hands its Protocol with a message (what the legacy SSE
 * transport's handlePostMessage builds), its URL made only when a handler reads it: only requests
 * get it, and the core's own handlers never look. A class, so that the getter is on the prototype
 * rather than defined on each object.
 */
class LaneRequestInfo implements RequestInfo {
  private fullUrl: URL | undefined | null = null;
  readonly headers: IncomingMessage['headers'];
  constructor(private readonly req: IncomingMessage) {
    this.headers = req.headers;
  }
  get url(): URL | undefined {
    if (this.fullUrl === null) {
      const { req } = this;
      const host = req.headers.host;
      // What `instanceof TLSSocket` tells, without importing node:tls into every service.
      const scheme = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
      this.fullUrl = host && req.url ? new URL(req.url, `${scheme}://${host}`) : undefined;
    }
    return this.fullUrl;
  }
}

/**
 * Hands one message, already checked against the SDK's JSONRPCMessageSchema (isJsonRpcMessage), to
 * the session's Protocol through the transport's `onmessage` (the Transport interface's way in),
 * which is what the SDK transports do once they have parsed a body: it skips their second parse of
 * the same message, and the legacy transport's URL and content-type parsing.
 */
function handToProtocol(session: SseSession | StreamableHttpSession, message: JSONRPCMessage, req: IncomingMessage) {
  session.transport.onmessage?.(message, { requestInfo: new LaneRequestInfo(req) });
}

/** The 202 with no body the SDK's Streamable HTTP transport answers a POST of no requests with. */
const NO_CONTENT_HEADERS = { 'x-accel-buffering': SSE_HEADERS['x-accel-buffering'] };

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

  /** The gate every lane request passes (fastify's guard hook): the identity, or undefined. */
  const gated = (req: IncomingMessage): Identity | undefined => {
    const { headers } = req;
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

  /** Headers every lane POST must pass; the identity, or undefined to leave it to fastify. */
  const admitted = (req: IncomingMessage): Identity | undefined => {
    const { headers } = req;
    if (!isJsonContentType(headers['content-type'])) return undefined;
    const length = Number(headers['content-length']);
    // Chunked bodies and empty ones keep fastify's handling (limit while streaming, "no body").
    if (!(length > 0 && length <= config.MCP_BODY_LIMIT) || headers['transfer-encoding'] !== undefined)
      return undefined;
    return gated(req);
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
      // Any other message (initialize, notifications/initialized, a response to a server request):
      // what the SDK transport's handlePostMessage does with a body it has parsed.
      handToProtocol(session, body as JSONRPCMessage, req);
      res.writeHead(202, { 'x-request-id': requestId }).end('Accepted');
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
      if (isNotRequest(body) && isJsonRpcMessage(body)) {
        // A notification (notifications/initialized, cancelled) or a response to a server request:
        // 202 and no body, as the SDK transport answers a POST without requests.
        session.lastSeen = Date.now();
        handToProtocol(session, body as JSONRPCMessage, req);
        res.writeHead(202, { ...NO_CONTENT_HEADERS, 'x-request-id': requestId }).end();
        return;
      }
      trackRequest(session, res, false);
      res.setHeader('x-request-id', requestId);
      if (!isToolCallMessage(body)) {
        session.transport.handleRequest(req, res, body).catch(failed(res, requestId));
        return;
      }
      // The answer is an SSE response with the call's notifications and then its result, as the SDK
      // transport writes it. The head is held back until the first message, or SSE_HEAD_HOLD_MS for a
      // call that sends none, so that a call that ends within it goes out in one write: the head sent
      // on its own was a write system call and a wake-up of the client per call, and held for a turn
      // of the event loop only, it went out on its own for every call that waits on I/O (a query).
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
      const hold = setTimeout(() => {
        if (res.writableEnded || res.destroyed) return;
        if (!started) {
          stream();
          res.flushHeaders();
        }
        stopKeepalive = keepStreamAlive(res, heartbeatMs);
      }, SSE_HEAD_HOLD_MS);
      const finish = (last?: string) => {
        clearTimeout(hold);
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

  /**
   * DELETE /mcp of a session: closed, then 200 with no body, as the SDK transport answers it (the
   * session's engine, its running calls and its table entry go with the transport's close).
   */
  const deleteSession = (res: ServerResponse, session: StreamableHttpSession, requestId: string): void => {
    session.transport.close().then(
      () => {
        res.writeHead(200, { ...NO_CONTENT_HEADERS, 'x-request-id': requestId }).end();
      },
      failed(res, requestId),
    );
  };

  /** The open Streamable HTTP session a request names, if the lane may serve it; else undefined. */
  const streamableSession = (req: IncomingMessage, identity: Identity): StreamableHttpSession | undefined => {
    const id = req.headers['mcp-session-id'];
    return findSession(state.sessions, typeof id === 'string' ? id : undefined, 'streamable-http', identity);
  };

  /** A protocol version header the SDK transport accepts (absent means its default). */
  const knownVersion = (req: IncomingMessage): boolean => {
    const version = req.headers['mcp-protocol-version'];
    return version === undefined || SUPPORTED_PROTOCOL_VERSIONS.includes(version as string);
  };

  /** Serves the request and returns its id, or returns undefined to leave it to fastify. */
  const take = (req: IncomingMessage, res: ServerResponse): string | undefined => {
    const url = req.url ?? '';
    if (req.method === 'DELETE') {
      if (url !== '/mcp' || config.MCP_STATELESS || !knownVersion(req)) return undefined;
      const { headers } = req;
      // A DELETE with a body is odd enough to leave to fastify.
      if (headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) !== 0) return undefined;
      const identity = gated(req);
      const session = identity && streamableSession(req, identity);
      if (!session) return undefined;
      const requestId = requestIdOf(req);
      deleteSession(res, session, requestId);
      return requestId;
    }
    if (req.method !== 'POST') return undefined;
    if (url === '/rpc') {
      const identity = admitted(req);
      if (!identity) return undefined;
      const requestId = requestIdOf(req);
      rpcCall(req, res, identity, requestId);
      return requestId;
    }
    if (url === '/mcp') {
      if (config.MCP_STATELESS) return undefined;
      const accept = req.headers.accept;
      // The SDK transport's own checks (406, 400 on an unknown version) stay with it.
      if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
      if (!knownVersion(req)) return undefined;
      const identity = admitted(req);
      const session = identity && streamableSession(req, identity);
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

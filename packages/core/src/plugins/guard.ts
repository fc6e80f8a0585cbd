import type { IncomingHttpHeaders } from 'node:http';

import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

import { ANONYMOUS } from '../auth.js';
import type { Identity } from '../define-tool.js';
import { ERROR_CODES, JSON_RPC } from '../errors.js';
import { type JsonRpcErrorBody, rpcError } from '../json-rpc.js';
import type { CoreState } from '../state.js';

/** Paths that stay open to probes (Docker healthcheck, cron, Prometheus). */
const OPEN_PATHS = new Set(['/health', '/metrics']);

export const PARSE_ERROR_MESSAGE = 'Parse error: the body is not valid JSON';

export type Admission =
  | { ok: true; identity: Identity }
  | { ok: false; status: number; headers: Record<string, string>; body: JsonRpcErrorBody };

/**
 * The checks every MCP request passes, in order: shutdown gate, Host/Origin (DNS rebinding), API
 * key → identity. Shared by the fastify hook and the fast lane (http-lane.ts).
 */
export function admit(state: CoreState, headers: IncomingHttpHeaders): Admission {
  if (state.closing) {
    return {
      ok: false,
      status: 503,
      headers: { 'retry-after': '5' },
      body: rpcError(ERROR_CODES.UNAVAILABLE.jsonRpc, 'Server is shutting down'),
    };
  }
  if (!state.hostPolicy.allowHost(headers.host)) {
    return {
      ok: false,
      status: 403,
      headers: {},
      body: rpcError(ERROR_CODES.FORBIDDEN.jsonRpc, 'Forbidden: Host header not allowed'),
    };
  }
  if (!state.hostPolicy.allowOrigin(headers.origin)) {
    return {
      ok: false,
      status: 403,
      headers: {},
      body: rpcError(ERROR_CODES.FORBIDDEN.jsonRpc, 'Forbidden: Origin not allowed'),
    };
  }
  const auth = state.auth.authenticate(headers);
  if (!auth.ok) {
    return {
      ok: false,
      status: 401,
      headers: { 'www-authenticate': `Bearer realm="mcp-${state.service.name}"` },
      body: rpcError(
        ERROR_CODES.UNAUTHORIZED.jsonRpc,
        auth.reason === 'missing'
          ? 'Unauthorized: send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"'
          : 'Unauthorized: invalid API key',
      ),
    };
  }
  return { ok: true, identity: auth.identity };
}

/**
 * Every request fastify serves passes here first (see `admit`). Answers are JSON-RPC error bodies so
 * that MCP clients can show them.
 */
export const guardPlugin = fp(
  (app: FastifyInstance, state: CoreState, done: (err?: Error) => void) => {
    app.decorateRequest('identity', null as unknown as typeof ANONYMOUS);
    app.decorateRequest('rateKey', '');
    app.addHook('onRequest', (request, reply, next) => {
      const path = request.url.split('?', 1)[0] ?? '';
      request.identity = ANONYMOUS;
      // On the raw response so that it also reaches hijacked (SSE, SDK-written) responses.
      reply.raw.setHeader('x-request-id', request.id);
      if (OPEN_PATHS.has(path)) return next();
      const admission = admit(state, request.headers);
      if (!admission.ok) {
        void reply.code(admission.status).headers(admission.headers).send(admission.body);
        return;
      }
      request.identity = admission.identity;
      request.rateKey = admission.identity.authenticated ? admission.identity.id : `ip:${request.ip}`;
      next();
    });

    // Fastify's own failures (bad JSON, body too large, wrong content type) as JSON-RPC errors.
    app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      let code: number = JSON_RPC.INTERNAL_ERROR;
      let message = 'Internal error';
      if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
        code = JSON_RPC.PARSE_ERROR;
        message = PARSE_ERROR_MESSAGE;
      } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        code = ERROR_CODES.PAYLOAD_TOO_LARGE.jsonRpc;
        message = `Payload too large: the limit is ${state.config.MCP_BODY_LIMIT} bytes (MCP_BODY_LIMIT)`;
      } else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        code = JSON_RPC.INVALID_REQUEST;
        message = 'Unsupported Media Type: send Content-Type: application/json';
      } else if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
        code = JSON_RPC.INVALID_REQUEST;
        message = 'Invalid Request: empty JSON body';
      } else if (status < 500) {
        code = JSON_RPC.INVALID_REQUEST;
        message = error.message;
      }
      void reply.code(status).send(rpcError(code, message));
    });

    app.setNotFoundHandler((request, reply) => {
      void reply
        .code(404)
        .send(rpcError(ERROR_CODES.NOT_FOUND.jsonRpc, `Not found: ${request.method} ${request.url.split('?', 1)[0]}`));
    });
    done();
  },
  { name: 'mcp-guard' },
);

import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

import { ANONYMOUS } from '../auth.js';
import { ERROR_CODES, JSON_RPC } from '../errors.js';
import { rpcError } from '../json-rpc.js';
import type { CoreState } from '../state.js';

/** Paths that stay open to probes (Docker healthcheck, cron, Prometheus). */
const OPEN_PATHS = new Set(['/health', '/metrics']);

/**
 * Every request passes here first: shutdown gate, Host/Origin check (DNS rebinding), API key →
 * identity. Answers are JSON-RPC error bodies so that MCP clients can show them.
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
      if (state.closing) {
        void reply
          .code(503)
          .header('retry-after', '5')
          .send(rpcError(ERROR_CODES.UNAVAILABLE.jsonRpc, 'Server is shutting down'));
        return;
      }
      if (!state.hostPolicy.allowHost(request.headers.host)) {
        void reply.code(403).send(rpcError(ERROR_CODES.FORBIDDEN.jsonRpc, 'Forbidden: Host header not allowed'));
        return;
      }
      if (!state.hostPolicy.allowOrigin(request.headers.origin)) {
        void reply.code(403).send(rpcError(ERROR_CODES.FORBIDDEN.jsonRpc, 'Forbidden: Origin not allowed'));
        return;
      }
      const auth = state.auth.authenticate(request.headers);
      if (!auth.ok) {
        void reply
          .code(401)
          .header('www-authenticate', `Bearer realm="mcp-${state.service.name}"`)
          .send(
            rpcError(
              ERROR_CODES.UNAUTHORIZED.jsonRpc,
              auth.reason === 'missing'
                ? 'Unauthorized: send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"'
                : 'Unauthorized: invalid API key',
            ),
          );
        return;
      }
      request.identity = auth.identity;
      request.rateKey = auth.identity.authenticated ? auth.identity.id : `ip:${request.ip}`;
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
        message = 'Parse error: the body is not valid JSON';
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

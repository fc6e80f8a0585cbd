import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

import type { RouteAccessConfig } from '../define-service.js';
import { type ErrorCode, httpFailure } from '../errors.js';
import { type Admission, admit, OPEN_PATHS } from '../http/admission.js';
import { ANONYMOUS } from '../http/api-keys.js';
import { PARSE_ERROR_MESSAGE } from '../http/json-body.js';
import { scopeRefusal } from '../http/scope-check.js';
import type { CoreState } from '../state.js';

/** Fastify's own body failures, by its error code, as the core's error classes. */
const FASTIFY_FAILURES: Record<string, (state: CoreState) => [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => ['PARSE_ERROR', PARSE_ERROR_MESSAGE],
  FST_ERR_CTP_BODY_TOO_LARGE: (state) => [
    'PAYLOAD_TOO_LARGE',
    `Payload too large: the limit is ${state.config.MCP_BODY_LIMIT} bytes (MCP_BODY_LIMIT)`,
  ],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => [
    'UNSUPPORTED_MEDIA_TYPE',
    'Unsupported Media Type: send Content-Type: application/json',
  ],
  FST_ERR_CTP_EMPTY_JSON_BODY: () => ['INVALID_REQUEST', 'Invalid Request: empty JSON body'],
};

/**
 * The fastify adapter of the gate (http/admission.ts): every request passes `admit` first, and
 * every refusal or failure is a JSON-RPC error body with the table's status, so that MCP clients
 * can show it.
 */
export const guardPlugin = fp(
  (app: FastifyInstance, state: CoreState, done: (err?: Error) => void) => {
    app.decorateRequest('identity', null as unknown as typeof ANONYMOUS);
    app.decorateRequest('rateKey', '');
    const settle = (request: FastifyRequest, reply: FastifyReply, admission: Admission, next: () => void) => {
      if (!admission.ok) {
        void reply.code(admission.status).headers(admission.headers).send(admission.body);
        return;
      }
      request.identity = admission.identity;
      request.rateKey = admission.identity.authenticated ? admission.identity.id : `ip:${request.ip}`;
      next();
    };
    // The gate needs the matched route's access setting, and fastify's request.routeOptions builds
    // a new object on every read (a tenth of a session's open in `pnpm bench`). Static routes
    // without one are noted as they are added, by method and path; a request that matches none of
    // them (a route with parameters, one that sets access, a trailing-slash variant) reads it.
    const plainRoutes = new Set<string>();
    const seenRoutes = new Set<string>();
    app.addHook('onRoute', (route) => {
      const config: RouteAccessConfig | undefined = route.config;
      const access = config?.access;
      const isStatic = !/[:*(]/.test(route.url);
      for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
        const key = `${method} ${route.url}`;
        // The same method and path twice (routes told apart by constraints): always read it.
        if (seenRoutes.has(key)) plainRoutes.delete(key);
        else if (access === undefined && isStatic && route.constraints === undefined) plainRoutes.add(key);
        seenRoutes.add(key);
      }
    });
    const accessOf = (request: FastifyRequest, path: string) =>
      plainRoutes.has(`${request.method} ${path}`)
        ? undefined
        : (request.routeOptions.config as RouteAccessConfig).access;

    app.addHook('onRequest', (request, reply, next) => {
      const path = request.url.split('?', 1)[0] ?? '';
      request.identity = ANONYMOUS;
      // On the raw response so that it also reaches hijacked (SSE, SDK-written) responses.
      reply.raw.setHeader('x-request-id', request.id);
      if (OPEN_PATHS.has(path)) return next();
      const access = accessOf(request, path);
      const admission = admit(state, request.headers, {
        path,
        keyRequired: access === undefined,
        checkOrigin: access !== 'cross-origin',
      });
      if (admission instanceof Promise) {
        admission.then(
          (done) => settle(request, reply, done, next),
          (error: unknown) => next(error as Error),
        );
      } else {
        settle(request, reply, admission, next);
      }
    });

    // OAuth: a call to a tool the token's scopes do not cover is refused before it runs (403).
    const SCOPED_PATHS = new Set(['/rpc', '/mcp', '/messages', '/mcp/v1/tools/call']);
    app.addHook('preHandler', (request, reply, next) => {
      if (request.identity.scopes === undefined || request.method !== 'POST') return next();
      const path = request.url.split('?', 1)[0] ?? '';
      if (!SCOPED_PATHS.has(path)) return next();
      const body =
        path === '/mcp/v1/tools/call' && !Array.isArray(request.body)
          ? { method: 'tools/call', params: request.body }
          : request.body;
      const failure = scopeRefusal(state.registry, state.auth, request.identity, path, body);
      if (!failure) return next();
      void reply.code(failure.status).headers(failure.headers).send(failure.body);
    });

    app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
      const known = error.code === undefined ? undefined : FASTIFY_FAILURES[error.code]?.(state);
      let failure;
      if (known) failure = httpFailure(...known);
      else if (error instanceof SyntaxError) failure = httpFailure('PARSE_ERROR', PARSE_ERROR_MESSAGE);
      else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        // Any other refusal of fastify's (bad URL, bad Content-Length...): the client's request.
        failure = httpFailure('INVALID_REQUEST', error.message);
      } else {
        request.log.error({ err: error }, 'request failed');
        failure = httpFailure('INTERNAL', 'Internal error');
      }
      void reply.code(failure.status).headers(failure.headers).send(failure.body);
    });

    app.setNotFoundHandler((request, reply) => {
      const failure = httpFailure('NOT_FOUND', `Not found: ${request.method} ${request.url.split('?', 1)[0]}`);
      void reply.code(failure.status).send(failure.body);
    });
    done();
  },
  { name: 'mcp-guard' },
);

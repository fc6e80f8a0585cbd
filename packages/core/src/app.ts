import { createServer, type RequestListener } from 'node:http';
import type { Socket } from 'node:net';

import type { Resolver } from '@mcp-sse/net-guard';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';

import type { BaseConfig } from './config.js';
import type { ServiceDefinition } from './define-service.js';
import { httpFailure } from './errors.js';
import { createAuthenticator } from './http/authentication.js';
import { deliver } from './http/deliver.js';
import { createFastLane, type Lane } from './http/fast-lane.js';
import type * as ForwardingModule from './http/forwarding.js';
import { createHostPolicy } from './http/host-policy.js';
import { parseJson } from './http/json-body.js';
import { createRpcHandler } from './http/rpc-handler.js';
import { LimitedServerResponse, limitSlowConsumer } from './http/slow-consumer.js';
import { createLogger } from './logger.js';
import { sessionModules } from './mcp/session-modules.js';
import { createMetrics } from './metrics.js';
import type { DocumentFetcher } from './oauth/client-metadata-document.js';
import { guardPlugin } from './plugins/guard.js';
import { healthPlugin } from './plugins/health.js';
import { rpcPlugin } from './plugins/rpc.js';
import { ssePlugin } from './plugins/sse.js';
import { streamableHttpPlugin } from './plugins/streamable-http.js';
import { createRateLimiter } from './rate-limit.js';
import { ToolRegistry } from './registry/registry.js';
import { expiredSessions, MemorySessionStore, type SessionStore } from './sessions/session.js';
import { createSessionAdmission } from './sessions/session-admission.js';
import type { SessionDirectory } from './sessions/session-directory.js';
import type { CoreState } from './state.js';
import { activeTracing } from './tracing/tracing.js';

export interface BuildAppOptions<Config extends BaseConfig, Deps> {
  config: Readonly<Config>;
  /** Built by service.createContext when omitted. */
  deps?: Deps;
  logger?: Logger;
  sessions?: SessionStore;
  /** Process metrics (event loop, memory); off in tests that build many apps. */
  defaultMetrics?: boolean;
  /** How client ID metadata documents are fetched (OAuth): the SSRF-guarded fetcher unless a test injects one. */
  oauthDocumentFetcher?: DocumentFetcher;
  /** Test seams of the guarded fetcher: DNS answered from a table, a test CA. */
  oauthDocumentNetwork?: { resolver?: Resolver; ca?: string };
}

declare module 'fastify' {
  interface FastifyInstance {
    mcp: CoreState;
  }
}

/** Above the 60 s idle timeout of common proxies and load balancers, so that they close first. */
const KEEP_ALIVE_MS = 65_000;

/** The answer to a request whose body did not arrive in time (the server's requestTimeout). */
function bodyTimeoutAnswer(timeoutMs: number): string {
  const failure = httpFailure('BODY_TIMEOUT', `Request Timeout: the request did not arrive within ${timeoutMs} ms`);
  const body = JSON.stringify(failure.body);
  return (
    `HTTP/1.1 ${failure.status} Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Builds the HTTP app of a service. Never listens: runService (or a test) does. */
export async function buildApp<Config extends BaseConfig, Deps>(
  service: ServiceDefinition<Config, Deps>,
  options: BuildAppOptions<Config, Deps>,
): Promise<FastifyInstance> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.LOG_LEVEL, service.name, config.LOG_FLUSH_MS);
  if (config.MCP_AUTH === 'keys' && config.MCP_API_KEYS.length === 0) {
    logger.warn('MCP_API_KEYS is not set: every client that reaches this port can call every tool');
  }
  // OAuth (jose, the SDK's auth schemas, the SQLite store) is loaded only when it is on.
  const oauthModules =
    config.MCP_AUTH === 'keys'
      ? undefined
      : await Promise.all([import('./oauth/setup.js'), import('./plugins/oauth.js')]);
  const oauth = await oauthModules?.[0].createOAuth(config, service.name, {
    ...(options.oauthDocumentFetcher ? { fetchDocument: options.oauthDocumentFetcher } : {}),
    ...(options.oauthDocumentNetwork ? { documentNetwork: options.oauthDocumentNetwork } : {}),
  });
  const deps = options.deps ?? (await service.createContext(config, logger));
  const metrics = createMetrics(service.name, options.defaultMetrics ?? true);
  const registry = new ToolRegistry({
    service: service.name,
    tools: service.tools,
    toolsets: service.toolsets,
    config,
    deps,
    ...(service.mapError ? { mapError: service.mapError } : {}),
    metrics,
    rateLimiter: createRateLimiter(config.MCP_RATE_LIMIT),
  });

  // The fast lane sees each request first and hands fastify what it does not take (http/fast-lane.ts).
  // Set once the state it serves exists (below); requests only arrive after listen.
  const fastLane: { take?: Lane } = {};
  /** Open connections, for shutdown (see preClose). */
  const sockets = new Set<Socket>();
  const timeoutAnswer = bodyTimeoutAnswer(config.MCP_BODY_TIMEOUT_MS);
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.MCP_BODY_LIMIT,
    trustProxy: config.MCP_TRUST_PROXY,
    requestIdHeader: 'x-request-id',
    // One audit line per tool call instead of two lines per HTTP request; requests log at debug.
    logController: new LogController({ disableRequestLogging: true }),
    // SSE streams are long-lived; the socket timeout must not cut them.
    connectionTimeout: 0,
    keepAliveTimeout: KEEP_ALIVE_MS,
    // Requests during shutdown get the gate's JSON-RPC 503 (http/admission.ts), not fastify's own.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    serverFactory: (handler) => {
      // requestTimeout bounds the arrival of a request, body included (a body trickled in byte by
      // byte), not the life of a response: SSE streams are unaffected. Checked every second.
      const dispatch: RequestListener = (req, res) => {
        if (!fastLane.take?.(req, res)) handler(req, res);
      };
      // With tracing on, every request (fast lane or fastify) runs inside its span from here.
      const tracing = activeTracing();
      const server = createServer(
        { connectionsCheckingInterval: 1000, ServerResponse: LimitedServerResponse },
        tracing ? tracing.wrapRequestListener(dispatch) : dispatch,
      );
      server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      server.keepAliveTimeout = KEEP_ALIVE_MS;
      server.requestTimeout = config.MCP_BODY_TIMEOUT_MS;
      server.headersTimeout = Math.min(config.MCP_BODY_TIMEOUT_MS, 60_000);
      server.setTimeout(0);
      return server;
    },
    clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
      if (socket.destroyed) return;
      if (state.closing) {
        socket.destroy();
        return;
      }
      if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.writable) {
        socket.end(timeoutAnswer);
        return;
      }
      // What Node answers by default: a bare 400 for a request it cannot parse.
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy(error);
    },
  });

  const { extendServer } = service;
  const publicUrl = config.MCP_PUBLIC_URL ? new URL(config.MCP_PUBLIC_URL) : undefined;
  const sessions = options.sessions ?? new MemorySessionStore();
  // Several replicas share sessions through Redis; a stateless server has none to share.
  let directory: SessionDirectory | undefined;
  let createForwarding: typeof ForwardingModule.createForwarding | undefined;
  let receive: (text: string) => void = () => undefined;
  if (config.MCP_SESSION_STORE && config.MCP_STATELESS) {
    logger.info('MCP_SESSION_STORE is not used: the server is stateless (MCP_STATELESS=true)');
  } else if (config.MCP_SESSION_STORE) {
    // ioredis and the forwarding (light-my-request) are loaded only when sessions are shared (start-up time).
    const [{ createSessionDirectory }, forwardingModule] = await Promise.all([
      import('./sessions/session-directory.js'),
      import('./http/forwarding.js'),
    ]);
    ({ createForwarding } = forwardingModule);
    directory = createSessionDirectory({
      url: config.MCP_SESSION_STORE,
      prefix: config.MCP_SESSION_STORE_PREFIX ?? `mcp:${service.name}:`,
      heartbeatMs: config.MCP_REPLICA_HEARTBEAT_MS,
      localSessions: () => sessions.values(),
      onMessage: (text) => receive(text),
      onWarning: (message, error) => logger.warn(error ? { err: error } : {}, message),
    });
  }
  const admission = createSessionAdmission({
    store: sessions,
    metrics,
    maxSessions: config.MCP_MAX_SESSIONS,
    maxPerIdentity: config.MCP_MAX_SESSIONS_PER_IDENTITY,
    perMinute: config.MCP_SESSION_RATE_LIMIT,
    idleMs: config.MCP_SESSION_IDLE_MS,
    ...(directory ? { onRelease: (session) => void directory.remove(session.id) } : {}),
  });
  const slowConsumerLimits = {
    maxBufferedBytes: config.MCP_SSE_MAX_BUFFER_BYTES,
    stallTimeoutMs: config.MCP_SSE_STALL_TIMEOUT_MS,
  };
  const state: CoreState = {
    service,
    config,
    deps,
    registry,
    sessions,
    admission,
    metrics,
    hostPolicy: createHostPolicy({
      service: service.name,
      // The public address (MCP_PUBLIC_URL) is this server's own: its host and its pages' origin.
      allowedHosts: [...config.MCP_ALLOWED_HOSTS, ...(publicUrl ? [publicUrl.host] : [])],
      allowedOrigins: [...config.MCP_ALLOWED_ORIGINS, ...(publicUrl ? [publicUrl.origin] : [])],
    }),
    auth: createAuthenticator({
      mode: config.MCP_AUTH,
      keys: config.MCP_API_KEYS,
      realm: `mcp-${service.name}`,
      oauth,
    }),
    logger: app.log,
    startedAt: Date.now(),
    closing: false,
    limitStream: (res) =>
      limitSlowConsumer(res, slowConsumerLimits, (cut) => {
        metrics.slowStreamsClosed.inc({ reason: cut.reason });
        app.log.warn(
          { reason: cut.reason, buffered_bytes: cut.bufferedBytes, url: res.req.url },
          'closing a stream whose client is not reading',
        );
      }),
    createEngine: (identity, rateKey, transport) =>
      sessionModules().createSessionEngine({
        name: service.name,
        version: service.version,
        ...(service.description ? { title: service.description } : {}),
        ...(service.instructions ? { instructions: service.instructions } : {}),
        registry,
        identity,
        rateKey,
        transport,
        logger,
        directToolCalls: config.MCP_FAST_LANE,
        ...(extendServer
          ? { extend: (server) => extendServer(server, { config, deps, identity, transport, logger }) }
          : {}),
      }),
  };
  if (directory && createForwarding) {
    const forwarding = createForwarding({
      directory,
      sessions,
      deliver,
      logger,
      forwardTimeoutMs: config.MCP_FORWARD_TIMEOUT_MS,
      callTimeoutMs: config.MCP_TOOL_TIMEOUT_MS,
      closing: () => state.closing,
      count: (direction) => metrics.forwarded.inc({ direction }),
    });
    receive = (text) => forwarding.receive(text);
    state.cluster = { directory, forwarding };
    await directory.start();
    if (!directory.available) logger.warn('session store (Redis) unavailable at start: new sessions are refused');
  }
  app.decorate('mcp', state);
  const rpcHandler = createRpcHandler({
    registry,
    serverInfo: { name: `mcp-${service.name}`, version: service.version },
    ...(service.instructions ? { instructions: service.instructions } : {}),
  });
  if (config.MCP_FAST_LANE) fastLane.take = createFastLane(state, rpcHandler);

  // JSON with prototype-poisoning protection (the lane's parser), but an empty body is "no body":
  // clients send Content-Type on GET/DELETE too.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, raw, done) => {
    if (raw === '' || raw.length === 0) return done(null, undefined);
    try {
      done(null, parseJson(raw.toString()));
    } catch (error) {
      done(Object.assign(error as Error, { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), undefined);
    }
  });

  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
    done();
  });

  await app.register(guardPlugin, state);
  await app.register(ssePlugin, state);
  await app.register(streamableHttpPlugin, state);
  await app.register(rpcPlugin, { handler: rpcHandler });
  await app.register(healthPlugin, state);
  if (oauth && oauthModules) await app.register(oauthModules[1].oauthPlugin, oauth);

  // Toolsets with the tools in each, from the registry (descriptions never list tools by hand).
  const toolsets = Object.fromEntries(
    Object.entries(service.toolsets).map(([id, meta]) => {
      const inSet = service.tools.filter((tool) => tool.toolset === id);
      return [
        id,
        {
          description: meta.description,
          default: meta.default,
          tools: inSet.map((tool) => tool.name),
          enabled: inSet.filter((tool) => registry.tools.has(tool.name)).map((tool) => tool.name),
        },
      ];
    }),
  );
  if (service.routes) await app.register(async (scope) => service.routes?.(scope, { config, deps, logger }));
  // The endpoint list at GET /, unless the service serves its own page there.
  if (!app.hasRoute({ method: 'GET', url: '/' }))
    app.get('/', () => ({
      service: service.name,
      version: service.version,
      description: service.description,
      endpoints: {
        sse: '/sse',
        messages: '/messages',
        mcp: '/mcp',
        rpc: '/rpc',
        health: '/health',
        metrics: '/metrics',
      },
      toolsets,
    }));

  const sweep = setInterval(
    () => {
      for (const session of expiredSessions(sessions, config.MCP_SESSION_IDLE_MS)) {
        app.log.debug({ session: session.id }, 'closing idle session');
        void session.close();
      }
    },
    Math.min(30_000, Math.max(1000, Math.floor(config.MCP_SESSION_IDLE_MS / 2))),
  );
  sweep.unref();

  // Shutdown order: refuse new work, let running calls finish, end streams, release dependencies.
  app.addHook('preClose', async () => {
    state.closing = true;
    // A connection that finishes its last response from now on closes at once, instead of staying
    // open as keep-alive for KEEP_ALIVE_MS and holding the server's close (and the exit) back.
    app.server.keepAliveTimeout = 1;
    clearInterval(sweep);
    // The calls running here, and the ones this replica forwarded to another (their answers come
    // back on its Redis channel, which closes last), within the same grace.
    await Promise.all([
      registry.drain(config.MCP_SHUTDOWN_GRACE_MS),
      state.cluster?.forwarding.drain(config.MCP_SHUTDOWN_GRACE_MS),
    ]);
    await Promise.allSettled([...sessions.values()].map((session) => session.close()));
    // A connection that never sent a byte (a client's spare) is not idle to node:http, and once the
    // server closes nothing times it out: it would hold the close (and the exit) back.
    for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
    await directory?.close();
  });
  app.addHook('onClose', async () => {
    await service.close?.(deps);
    oauth?.close();
  });
  return app as unknown as FastifyInstance;
}

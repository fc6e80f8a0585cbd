import { createServer } from 'node:http';

import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';

import { createAuthenticator } from './auth.js';
import type { BaseConfig } from './config.js';
import type { ServiceDefinition } from './define-service.js';
import { createHostPolicy } from './host-check.js';
import { createHttpLane, type Lane } from './http-lane.js';
import { createLogger } from './logger.js';
import { createMcpServer } from './mcp-server.js';
import { createMetrics } from './metrics.js';
import { guardPlugin } from './plugins/guard.js';
import { healthPlugin } from './plugins/health.js';
import { rpcPlugin } from './plugins/rpc.js';
import { ssePlugin } from './plugins/sse.js';
import { streamableHttpPlugin } from './plugins/streamable-http.js';
import { createRateLimiter } from './rate-limit.js';
import { ToolRegistry } from './registry.js';
import { expiredSessions, MemorySessionStore, type SessionStore } from './sessions.js';
import type { CoreState } from './state.js';

export interface BuildAppOptions<Config extends BaseConfig, Deps> {
  config: Readonly<Config>;
  /** Built by service.createContext when omitted. */
  deps?: Deps;
  logger?: Logger;
  sessions?: SessionStore;
  /** Process metrics (event loop, memory); off in tests that build many apps. */
  defaultMetrics?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    mcp: CoreState;
  }
}

/** Above the 60 s idle timeout of common proxies and load balancers, so that they close first. */
const KEEP_ALIVE_MS = 65_000;

/** Builds the HTTP app of a service. Never listens: runService (or a test) does. */
export async function buildApp<Config extends BaseConfig, Deps>(
  service: ServiceDefinition<Config, Deps>,
  options: BuildAppOptions<Config, Deps>,
): Promise<FastifyInstance> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.LOG_LEVEL, service.name, config.LOG_FLUSH_MS);
  if (config.MCP_API_KEYS.length === 0) {
    logger.warn('MCP_API_KEYS is not set: every client that reaches this port can call every tool');
  }
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
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // The fast lane sees each request first and hands fastify what it does not take (http-lane.ts).
    serverFactory: (handler) => {
      const server = createServer((req, res) => {
        if (!fastLane.take?.(req, res)) handler(req, res);
      });
      // What fastify sets on a server it creates itself.
      server.keepAliveTimeout = KEEP_ALIVE_MS;
      server.requestTimeout = 0;
      server.setTimeout(0);
      return server;
    },
  });
  // Set once the state it serves exists (below); requests only arrive after listen.
  const fastLane: { take?: Lane } = {};

  const { extendServer } = service;
  const sessions = options.sessions ?? new MemorySessionStore();
  const state: CoreState = {
    service,
    config,
    deps,
    registry,
    sessions,
    metrics,
    hostPolicy: createHostPolicy({
      service: service.name,
      allowedHosts: config.MCP_ALLOWED_HOSTS,
      allowedOrigins: config.MCP_ALLOWED_ORIGINS,
    }),
    auth: createAuthenticator(config.MCP_API_KEYS),
    logger: app.log,
    startedAt: Date.now(),
    closing: false,
    createServer: (identity, rateKey, transport) =>
      createMcpServer({
        name: service.name,
        version: service.version,
        ...(service.description ? { title: service.description } : {}),
        ...(service.instructions ? { instructions: service.instructions } : {}),
        registry,
        identity,
        rateKey,
        transport,
        logger: logger,
        ...(extendServer
          ? { extend: (server) => extendServer(server, { config, deps, identity, transport, logger }) }
          : {}),
      }),
    reserveSession: async () => {
      if (sessions.size < config.MCP_MAX_SESSIONS) return true;
      await Promise.allSettled(expiredSessions(sessions, config.MCP_SESSION_IDLE_MS).map((s) => s.close()));
      return sessions.size < config.MCP_MAX_SESSIONS;
    },
  };
  app.decorate('mcp', state);
  fastLane.take = createHttpLane(state);

  // JSON with prototype-poisoning protection (fastify's parser), but an empty body is "no body":
  // clients send Content-Type on GET/DELETE too.
  app.removeContentTypeParser('text/plain');
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
    if (raw === '' || raw.length === 0) return done(null, undefined);
    void jsonParser(request, raw.toString(), done);
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
  await app.register(rpcPlugin, state);
  await app.register(healthPlugin, state);

  // Toolsets with the tools in each, from the registry (descriptions never list tools by hand).
  const toolsets = Object.fromEntries(
    Object.entries(service.toolsets).map(([id, meta]) => [
      id,
      {
        description: meta.description,
        default: meta.default,
        tools: service.tools.filter((tool) => tool.toolset === id).map((tool) => tool.name),
        enabled: service.tools
          .filter((tool) => tool.toolset === id && registry.tools.has(tool.name))
          .map((t) => t.name),
      },
    ]),
  );
  app.get('/', () => ({
    service: service.name,
    version: service.version,
    description: service.description,
    endpoints: { sse: '/sse', messages: '/messages', mcp: '/mcp', rpc: '/rpc', health: '/health', metrics: '/metrics' },
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
    clearInterval(sweep);
    await registry.drain(config.MCP_SHUTDOWN_GRACE_MS);
    await Promise.allSettled([...sessions.values()].map((session) => session.close()));
  });
  app.addHook('onClose', async () => {
    await service.close?.(deps);
  });
  return app as unknown as FastifyInstance;
}

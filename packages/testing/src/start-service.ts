import { type AnyServiceDefinition, type BaseConfig, buildApp, type BuildAppOptions, loadConfig } from '@mcp-sse/core';
import type { FastifyInstance } from 'fastify';
import { type DestinationStream, pino } from 'pino';

export interface StartOptions {
  /** Settings as environment variables; nothing is read from process.env but MCP_TEST_FAST_LANE. */
  env?: Record<string, string | undefined>;
  /** Log level for the service under test (default: silent; set MCP_TEST_LOG=debug to see logs). */
  logLevel?: string;
  /** Options of buildApp beyond the config (e.g. an OAuth client-metadata-document fetcher). */
  build?: Pick<BuildAppOptions<BaseConfig, unknown>, 'oauthDocumentFetcher' | 'oauthDocumentNetwork'>;
  /** Where the service's log lines go (default: stdout); tests that inspect every line pass their own. */
  logDestination?: DestinationStream;
}

export interface StartedService {
  url: string;
  port: number;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Starts a service for real on 127.0.0.1 and a free port, as runService would, minus signals. */
export async function startService(service: AnyServiceDefinition, options: StartOptions = {}): Promise<StartedService> {
  const level = options.logLevel ?? process.env['MCP_TEST_LOG'] ?? 'silent';
  const config = loadConfig(service.config, {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: level,
    // CI runs the integration suites a second time with the fast lane off (.ci/run).
    MCP_FAST_LANE: process.env['MCP_TEST_FAST_LANE'],
    ...options.env,
  });
  const logger = options.logDestination ? pino({ level }, options.logDestination) : pino({ level });
  const app = await buildApp(service, { config, logger, defaultMetrics: false, ...options.build });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected listen address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    app,
    close: () => app.close(),
  };
}

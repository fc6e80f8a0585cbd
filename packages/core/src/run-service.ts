import { buildApp } from './app.js';
import { type BaseConfig, loadConfig } from './config.js';
import type { ServiceDefinition } from './define-service.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logger.js';
import { stopTracing } from './tracing/start-tracing.js';

/**
 * The process entry of a service: config → dependencies → app → listen, and a graceful exit on
 * SIGTERM/SIGINT well within Docker's 10 s grace. A bad setting exits 1 with one line naming it.
 */
export async function runService<Config extends BaseConfig, Deps>(
  service: ServiceDefinition<Config, Deps>,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig(service.config, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`mcp-${service.name}: invalid configuration: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL, service.name, config.LOG_FLUSH_MS);
  let app;
  try {
    app = await buildApp(service, { config, logger });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`mcp-${service.name}: cannot start: ${message}\n`);
    logger.fatal({ err: error }, 'start-up failed');
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Hard stop just under Docker's 10 s grace, whatever happens.
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.MCP_SHUTDOWN_GRACE_MS + 1500).unref();
    app
      .close()
      // Spans of the last calls reach the collector before the process ends (bounded).
      .then(() => stopTracing(1000))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'error during shutdown');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  try {
    const address = await app.listen({ port: config.PORT, host: config.HOST });
    logger.info(
      { address, tools: app.mcp.registry.size, stateless: config.MCP_STATELESS },
      `mcp-${service.name} ${service.version} listening: ${address}/sse ${address}/mcp ${address}/rpc`,
    );
  } catch (error) {
    process.stderr.write(
      `mcp-${service.name}: cannot listen on ${config.HOST}:${config.PORT}: ${(error as Error).message}\n`,
    );
    process.exit(1);
  }
}

/**
 * The re-embed command: `pnpm --filter @mcp-sse/memory reembed` (node dist/reembed-main.bundle.js in the
 * image), with the same settings (environment, MCP_CONFIG_FILE) as the service, the new EMBEDDINGS*
 * ones included. Stop the service first: it refuses to start while the database's embeddings and
 * its settings differ. Progress goes to stderr; the exit code is 0 when the database is switched.
 */
import { ConfigError, loadConfig } from '@mcp-sse/core';

import { configSchema } from './config.js';
import { createProvider } from './embeddings.js';
import { reembed } from './reembed.js';
import { openConnection } from './schema.js';

const say = (line: string) => process.stderr.write(`${line}\n`);

try {
  const config = loadConfig(configSchema, process.env);
  const db = openConnection({ path: config.MEMORY_DB_PATH, busyTimeoutMs: config.MEMORY_BUSY_TIMEOUT_MS });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted (run the command again to resume)')));
  process.once('SIGTERM', () => controller.abort(new Error('interrupted (run the command again to resume)')));
  try {
    const result = await reembed(db, createProvider(config), {
      batchSize: config.EMBEDDINGS_BATCH_SIZE,
      log: say,
      signal: controller.signal,
    });
    if (!result.switched) say(`nothing to do: the database already uses ${result.to}`);
  } finally {
    db.close();
  }
} catch (error) {
  say(
    `mcp-memory reembed: ${error instanceof ConfigError ? `invalid configuration: ${error.message}` : (error as Error).message}`,
  );
  process.exit(1);
}

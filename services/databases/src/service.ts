import { defineService } from '@mcp-sse/core';

import { Cache } from './cache.js';
import { type Config, configSchema } from './config.js';
import { Databases } from './databases.js';
import { DatabasesError } from './errors.js';
import { Registry } from './registry/registry.js';
import { PasswordCipher, readSecretsFile } from './secrets.js';
import { readServersFile } from './servers-file.js';
import { type Deps, toolsets } from './tools/define.js';
import { tools } from './tools/index.js';

export const service = defineService<Config, Deps>({
  name: 'databases',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'Many SQL servers (SQL Server, PostgreSQL, MySQL/MariaDB) behind one endpoint, with a metadata registry',
  instructions:
    'Start with list_servers, then list_databases, list_tables and describe_table (answered from the metadata ' +
    'registry), or find_objects to search every server by name. get_table_sample and execute_sql run on the server ' +
    'itself (read-only unless a server is read-write); explain shows the plan. Every answer names the server, ' +
    'database and engine. Placeholders: $1 (PostgreSQL), ? (MySQL/MariaDB), @p1 (SQL Server).',
  config: configSchema,
  toolsets,
  tools,
  createContext: async (config, logger) => {
    const secrets = readSecretsFile(config.DATABASES_SECRETS_FILE);
    const cipher = PasswordCipher.fromSecrets(secrets);
    const servers = readServersFile(config.DATABASES_SERVERS_FILE, secrets);
    const url = config.DATABASES_REGISTRY_URL ?? secrets.get('DATABASES_REGISTRY_URL');
    if (url === undefined || url === '') {
      throw new DatabasesError(
        'INVALID_INPUT',
        'DATABASES_REGISTRY_URL: set it (postgres://user@host:5432/db), in the environment or in the secrets file',
      );
    }
    const onWarning = (message: string, error: Error) => logger.warn({ err: error }, message);
    const registry = new Registry({
      url,
      schema: config.DATABASES_REGISTRY_SCHEMA,
      poolMax: config.DATABASES_REGISTRY_POOL_MAX,
      applicationName: `${config.DATABASES_APPLICATION_NAME}-registry`,
      onWarning,
    });
    try {
      const { applied } = await registry.migrate();
      const { reencrypted } = await registry.saveServers(servers, cipher);
      logger.info(
        { migrations: applied, servers: servers.map((server) => server.name), key: cipher.currentKeyId, reencrypted },
        'registry ready',
      );
    } catch (error) {
      await registry.close();
      throw error;
    }
    const cache = await Cache.open({
      url: config.DATABASES_REDIS_URL,
      prefix: config.DATABASES_CACHE_PREFIX,
      timeoutMs: config.DATABASES_REDIS_TIMEOUT_MS,
      onWarning,
    });
    const databases = new Databases({
      servers,
      registry,
      cipher,
      cache,
      applicationName: config.DATABASES_APPLICATION_NAME,
      allowWrite: config.DATABASES_ALLOW_WRITE,
      maxRows: config.DATABASES_MAX_ROWS,
      cacheTtlSeconds: config.DATABASES_CACHE_TTL,
      resultCacheTtlSeconds: config.DATABASES_RESULT_CACHE_TTL,
      resultCacheMaxBytes: config.DATABASES_RESULT_CACHE_MAX_BYTES,
      syncConcurrency: config.DATABASES_SYNC_CONCURRENCY,
      syncTimeoutMs: config.DATABASES_SYNC_TIMEOUT_MS,
      breakerThreshold: config.DATABASES_BREAKER_THRESHOLD,
      breakerCooldownMs: config.DATABASES_BREAKER_COOLDOWN_MS,
      onWarning,
      onInfo: (message, fields) => logger.info(fields, message),
    });
    await databases.loadGenerations();
    // In the background: a slow server never delays the start, nor the other servers' syncs.
    if (config.DATABASES_SYNC_ON_START) {
      void databases.syncAll().catch((error: unknown) => logger.warn({ err: error }, 'start-up sync failed'));
    }
    databases.schedule(config.DATABASES_SYNC_INTERVAL);
    return { databases };
  },
  healthChecks: (deps) => ({
    registry: async () => {
      await deps.databases.registry.ping();
    },
    // Reported, never failing: the service answers without Redis (slower) and with some servers down.
    cache: async () => ({ cache: deps.databases.cache.status }),
    servers: async () => {
      const servers = await deps.databases.listServers();
      const count = (health: string) => servers.filter((server) => server.health === health).length;
      return { up: count('up'), down: count('down'), unknown: count('unknown') };
    },
  }),
  close: (deps) => deps.databases.close(),
});

import { defineService } from '@mcp-sse/core';

import { type Config, configSchema } from './config.js';
import { specLabel } from './embeddings.js';
import { MemoryStore } from './memory-store.js';
import { memoryRoutes } from './routes.js';
import { TokenSigner } from './tokens.js';
import { type Deps, toolsets } from './tools/define.js';
import { tools } from './tools/index.js';

export const service = defineService<Config, Deps>({
  name: 'memory',
  packageJson: new URL('../package.json', import.meta.url),
  description:
    'Long-term memory on SQLite: semantic (sqlite-vec), full-text (FTS5) and hybrid search, tags, live events',
  instructions:
    'Use memory_store to remember facts, decisions and preferences (with tags), memory_search to recall them by ' +
    'meaning (mode=semantic), by exact words (mode=exact) or both (hybrid), with tags and time filters such as ' +
    'time_expr="last week". memory_list pages through memories, memory_update changes tags, memory_delete removes.',
  config: configSchema,
  toolsets,
  tools,
  createContext: (config, logger) => {
    const store = new MemoryStore(config, { onError: (error) => logger.warn({ err: error }, 'event watcher trouble') });
    store.start();
    logger.info(
      {
        embeddings: specLabel(store.spec),
        generation: store.spec.generation,
        queryWorkers: config.MEMORY_QUERY_WORKERS,
      },
      'memory database open',
    );
    return { store, tokens: new TokenSigner(config.EVENTS_TOKEN_SECRET, config.EVENTS_TOKEN_TTL_S) };
  },
  healthChecks: (deps) => ({
    database: async () => {
      deps.store.db.prepare('SELECT 1').get();
      return { embeddings: specLabel(deps.store.spec) };
    },
  }),
  routes: memoryRoutes,
  close: (deps) => deps.store.close(),
});

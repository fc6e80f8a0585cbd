import { toolDefiner } from '@mcp-sse/core';

import type { Config } from '../config.js';
import type { PostgresDatabase } from '../database.js';

export interface Deps {
  db: PostgresDatabase;
}

export type Toolset = 'read' | 'sql';

export const definePostgresTool = toolDefiner<Config, Deps, Toolset>();

/** Introspection and statistics: catalog reads in a READ ONLY transaction. */
export const readAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;

import { toolDefiner, type Toolsets } from '@mcp-sse/core';

import type { Config } from '../config.js';
import type { PostgresDatabase } from '../database.js';

export interface Deps {
  db: PostgresDatabase;
}

export const toolsets = {
  read: { description: 'Catalog, plans, query statistics and health, in READ ONLY transactions', default: true },
  sql: { description: 'One SQL statement (read-only unless POSTGRES_ACCESS_MODE=read_write)', default: true },
} satisfies Toolsets;

export type Toolset = keyof typeof toolsets;

export const definePostgresTool = toolDefiner<Config, Deps, Toolset>();

/** Introspection and statistics: catalog reads in a READ ONLY transaction. */
export const readAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;

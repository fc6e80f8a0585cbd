import { toolDefiner, type Toolsets } from '@mcp-sse/core';
import { z } from 'zod';

import type { Config } from '../config.js';
import type { Databases } from '../databases.js';

export interface Deps {
  databases: Databases;
}

export const toolsets = {
  catalog: {
    description:
      'The metadata registry: servers, databases, schemas, tables, columns, keys and indexes, searched and cached',
    default: true,
  },
  query: {
    description: 'Live statements on the servers: samples, SQL and plans, read-only unless a server is read-write',
    default: true,
  },
  admin: { description: 'Registry upkeep: metadata syncs on demand', default: false },
} satisfies Toolsets;

export type Toolset = keyof typeof toolsets;

export const defineDatabasesTool = toolDefiner<Config, Deps, Toolset>();

export const engineSchema = z.enum(['postgres', 'mysql', 'mssql']);

/** Names arrive from the model: bounded here, then checked against the registry, never spliced into SQL. */
export const serverName = z.string().min(1).max(63).describe('A server name from list_servers.');
export const databaseName = z.string().min(1).max(128).describe('A database name from list_databases.');
export const schemaName = z.string().min(1).max(128);
export const tableName = z.string().min(1).max(256);

export const paramsSchema = z
  .array(z.union([z.string().max(1_000_000), z.number(), z.boolean(), z.null()]))
  .max(1000)
  .default([])
  .describe(
    'Values bound to the placeholders, in order: $1, $2 (PostgreSQL), ? (MySQL/MariaDB), @p1, @p2 (SQL Server).',
  );

export const sqlSchema = z.string().min(1).max(100_000);

/** The byte budget of the rows of one answer: MCP_MAX_RESULT_BYTES less room for the rest of the answer. */
export function rowBudget(config: Readonly<Config>): number {
  const total = config.MCP_MAX_RESULT_BYTES;
  return Math.max(1024, total - Math.min(16 * 1024, Math.floor(total / 4)));
}

export const columnsSchema = z.array(z.object({ name: z.string(), type: z.string() }));

import { toolDefiner, type Toolsets } from '@mcp-sse/core';

import type { Config } from '../config.js';
import type { SqliteDatabase } from '../database.js';

export interface Deps {
  db: SqliteDatabase;
}

export const toolsets = {
  read: { description: 'Schema and rows: list and describe tables, query rows with filters', default: true },
  write: { description: 'Create tables; insert, update and delete rows', default: true },
  raw: { description: 'One SQL statement (read-only by default; writes with read_only=false)', default: true },
} satisfies Toolsets;

export type Toolset = keyof typeof toolsets;

export const defineSqliteTool = toolDefiner<Config, Deps, Toolset>();

import { toolDefiner } from '@mcp-sse/core';

import type { Config } from '../config.js';
import type { SqliteDatabase } from '../database.js';

export interface Deps {
  db: SqliteDatabase;
}

export type Toolset = 'read' | 'write' | 'raw';

export const defineSqliteTool = toolDefiner<Config, Deps, Toolset>();

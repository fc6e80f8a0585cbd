import { ServiceError, toolDefiner, type ToolDefinition } from '@mcp-sse/core';
import type { z } from 'zod';

import type { Config } from '../config.js';
import type { SqliteDatabase } from '../database.js';
import { DatabaseError } from '../errors.js';

export interface Deps {
  db: SqliteDatabase;
}

export type Toolset = 'read' | 'write' | 'raw';

const define = toolDefiner<Config, Deps, Toolset>();

/**
 * defineTool bound to this service, with the domain's DatabaseError turned into the core's
 * ServiceError (same code, same message) so that the domain modules need no core import.
 */
export function defineSqliteTool<Input extends z.ZodObject, Output extends z.ZodObject | undefined = undefined>(
  tool: ToolDefinition<Input, Output, Config, Deps, Toolset>,
): ToolDefinition<Input, Output, Config, Deps, Toolset> {
  return define({
    ...tool,
    handler: async (input, ctx) => {
      try {
        return await tool.handler(input, ctx);
      } catch (error) {
        if (error instanceof DatabaseError) {
          if (error.code === 'INTERNAL' || error.code === 'UNAVAILABLE')
            ctx.logger.error({ err: error.cause ?? error }, 'database error');
          throw new ServiceError(error.code, error.message, { cause: error.cause });
        }
        throw error;
      }
    },
  });
}

import { ServiceError, toolDefiner, type ToolDefinition } from '@mcp-sse/core';
import type { z } from 'zod';

import type { Config } from '../config.js';
import type { PostgresDatabase } from '../database.js';
import { DatabaseError } from '../errors.js';

export interface Deps {
  db: PostgresDatabase;
}

export type Toolset = 'read' | 'sql';

const define = toolDefiner<Config, Deps, Toolset>();

/**
 * defineTool bound to this service, with the domain's DatabaseError turned into the core's
 * ServiceError (same code, same message). Server-side failures are logged with their redacted cause.
 */
export function definePostgresTool<Input extends z.ZodObject, Output extends z.ZodObject | undefined = undefined>(
  tool: ToolDefinition<Input, Output, Config, Deps, Toolset>,
): ToolDefinition<Input, Output, Config, Deps, Toolset> {
  return define({
    ...tool,
    handler: async (input, ctx) => {
      try {
        return await tool.handler(input, ctx);
      } catch (error) {
        if (error instanceof DatabaseError) {
          if (['UNAVAILABLE', 'UPSTREAM_FAILED', 'INTERNAL'].includes(error.code)) {
            ctx.logger.warn({ err: error.cause ?? error, tool: tool.name }, 'database failure');
          }
          throw new ServiceError(error.code, error.message, { cause: error.cause });
        }
        throw error;
      }
    },
  });
}

/** Introspection and statistics: catalog reads in a READ ONLY transaction. */
export const readAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;

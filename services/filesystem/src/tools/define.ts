import { ServiceError, toolDefiner, type ToolDefinition } from '@mcp-sse/core';
import type { z } from 'zod';

import type { Config } from '../config.js';
import type { FileService } from '../file-service.js';
import { FsError } from '../path-guard.js';

export interface Deps {
  files: FileService;
}

export type Toolset = 'read' | 'write';

const define = toolDefiner<Config, Deps, Toolset>();

/**
 * defineTool bound to this service, with the domain's FsError turned into the core's ServiceError
 * (same code, same message: messages only ever name the caller's own input), so that the domain
 * modules need no core import.
 */
export function defineFsTool<Input extends z.ZodObject, Output extends z.ZodObject | undefined = undefined>(
  tool: ToolDefinition<Input, Output, Config, Deps, Toolset>,
): ToolDefinition<Input, Output, Config, Deps, Toolset> {
  return define({
    ...tool,
    handler: async (input, ctx) => {
      try {
        return await tool.handler(input, ctx);
      } catch (error) {
        if (error instanceof FsError) throw new ServiceError(error.code, error.message);
        throw error;
      }
    },
  });
}

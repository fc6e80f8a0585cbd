import { ServiceError, toolDefiner, type ToolDefinition } from '@mcp-sse/core';
import type { z } from 'zod';

import type { Config } from '../config.js';
import { FetchError, type FetchErrorKind } from '../fetch-error.js';
import type { Fetcher } from '../fetcher.js';

export interface Deps {
  fetcher: Fetcher;
}

export type Toolset = 'fetch';

const define = toolDefiner<Config, Deps, Toolset>();

const CODES: Record<FetchErrorKind, ServiceError['code']> = {
  INVALID_INPUT: 'INVALID_INPUT',
  REFUSED: 'FORBIDDEN',
  ROBOTS: 'FORBIDDEN',
  DNS: 'UPSTREAM_FAILED',
  CONNECT: 'UPSTREAM_FAILED',
  TIMEOUT: 'TIMEOUT',
  CANCELLED: 'CANCELLED',
  TOO_MANY_REDIRECTS: 'UPSTREAM_FAILED',
  UNSUPPORTED_CONTENT: 'UPSTREAM_FAILED',
};

/** The domain's FetchError as the core's ServiceError: same message, the matching code. */
export function toServiceError(error: FetchError): ServiceError {
  return new ServiceError(CODES[error.kind], error.message, { cause: error.cause });
}

/** defineTool bound to this service, with FetchError turned into ServiceError. */
export function defineFetchTool<Input extends z.ZodObject, Output extends z.ZodObject | undefined = undefined>(
  tool: ToolDefinition<Input, Output, Config, Deps, Toolset>,
): ToolDefinition<Input, Output, Config, Deps, Toolset> {
  return define({
    ...tool,
    handler: async (input, ctx) => {
      try {
        return await tool.handler(input, ctx);
      } catch (error) {
        if (error instanceof FetchError) throw toServiceError(error);
        throw error;
      }
    },
  });
}

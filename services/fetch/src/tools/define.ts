import { ServiceError, toolDefiner } from '@mcp-sse/core';

import type { Config } from '../config.js';
import type { FetchError, FetchErrorKind } from '../fetch-error.js';
import type { Fetcher } from '../fetcher.js';

export interface Deps {
  fetcher: Fetcher;
}

export type Toolset = 'fetch';

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

export const defineFetchTool = toolDefiner<Config, Deps, Toolset>();

import type { ErrorCode } from '@mcp-sse/core';

/**
 * An expected failure of the domain modules, with a message written for the caller. It carries a
 * core error code and `expose`, so the core answers it with that code and message; the domain
 * modules need no runtime import of the core.
 */
export class DatabasesError extends Error {
  override readonly name = 'DatabasesError';
  readonly expose = true;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

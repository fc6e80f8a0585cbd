import type { ErrorCode } from '@mcp-sse/core';

/**
 * An expected failure of the domain modules, with a message safe to show to the client. It carries
 * a core error code and `expose`, so the core answers it as a ServiceError with the same code and
 * message, and the domain modules need no runtime import of the core.
 */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
  /** The message is written for the caller: the core shows it as is. */
  readonly expose = true;
  /** The server's SQLSTATE when PostgreSQL itself refused the statement. */
  readonly sqlstate: string | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { cause?: unknown; sqlstate?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.sqlstate = options.sqlstate;
  }
}

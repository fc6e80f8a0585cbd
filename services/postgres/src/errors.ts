import type { ErrorCode } from '@mcp-sse/core';

/**
 * An expected failure of the domain modules, with a message safe to show to the client. The tool
 * layer (tools/define.ts) turns it into the core's ServiceError, code and message unchanged, so that
 * the domain modules need no runtime import of the core.
 */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
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

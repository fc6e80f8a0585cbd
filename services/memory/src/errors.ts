/**
 * The domain's own error: the memory modules stay free of MCP and server imports; `code` is a core
 * error code and `expose` marks the message safe to show, so the core answers it as is. Messages
 * name what was wrong and never carry file paths or internals.
 */
export type MemoryErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAVAILABLE'
  | 'UPSTREAM_FAILED'
  | 'TIMEOUT'
  | 'INTERNAL';

export class MemoryError extends Error {
  override readonly name = 'MemoryError';
  readonly expose = true;
  constructor(
    readonly code: MemoryErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** Shows a caller-supplied value in a message: quoted, and cut short so a huge input cannot flood the reply. */
export function show(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/** Translates a driver error: busy is retryable; anything else is storage trouble with a fixed message. */
export function translateSqliteError(error: unknown): MemoryError {
  if (error instanceof MemoryError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) {
    return new MemoryError('UNAVAILABLE', 'The memory database is busy (locked by another writer); retry shortly', {
      cause: error,
    });
  }
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    return new MemoryError('UNAVAILABLE', `Memory storage error (${code})`, { cause: error });
  }
  return new MemoryError('INTERNAL', 'Internal memory error', { cause: error });
}

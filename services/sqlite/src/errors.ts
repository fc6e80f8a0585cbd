/**
 * The domain's own error: the database modules stay free of MCP and server imports; its `code` is a
 * core error code and `expose` marks its message safe, so the core answers it as a ServiceError.
 * Messages are written for the caller: they name the table, column or word that was wrong and
 * never carry file paths or internals.
 */
export type DatabaseErrorCode = 'INVALID_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN' | 'UNAVAILABLE' | 'INTERNAL';

export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
  /** The message is written for the caller: the core shows it as is. */
  readonly expose = true;
  constructor(
    readonly code: DatabaseErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** Shows a caller-supplied name in a message: quoted, and cut short so a huge input cannot flood the reply. */
export function showName(name: string): string {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return JSON.stringify(shown);
}

interface SqliteErrorLike {
  code: string;
  message: string;
}

function isSqliteError(error: unknown): error is SqliteErrorLike {
  if (!(error instanceof Error) || error.name !== 'SqliteError') return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

/**
 * Translates a driver error into a DatabaseError with a message that is safe to show: constraint
 * and SQL errors describe the caller's own data or statement; I/O and open errors may name a file,
 * so they get a fixed message.
 */
export function translateSqliteError(error: unknown, readOnlyMode = false): DatabaseError {
  if (error instanceof DatabaseError) return error;
  if (!isSqliteError(error)) {
    return new DatabaseError('INTERNAL', 'Internal database error', { cause: error });
  }
  const { code, message } = error;
  const cause = { cause: error };
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new DatabaseError('CONFLICT', message, cause);
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new DatabaseError(
      'CONFLICT',
      'FOREIGN KEY constraint failed: the referenced row does not exist, or other rows still reference this one',
      cause,
    );
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) return new DatabaseError('INVALID_INPUT', message, cause);
  if (code.startsWith('SQLITE_READONLY')) {
    return new DatabaseError(
      'FORBIDDEN',
      readOnlyMode
        ? 'The database is read-only on this server (READ_ONLY_MODE=true)'
        : 'Attempt to write through a read-only connection (read_only=true); writes need read_only=false',
      cause,
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new DatabaseError('UNAVAILABLE', 'The database is busy (locked by another writer); retry shortly', cause);
  }
  if (code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG' || code === 'SQLITE_RANGE') {
    return new DatabaseError('INVALID_INPUT', message, cause);
  }
  if (code === 'SQLITE_AUTH') return new DatabaseError('FORBIDDEN', `Not authorized: ${message}`, cause);
  if (code === 'SQLITE_ERROR') {
    // Plain SQL errors describe the statement the caller sent (no such table, syntax error, …).
    return new DatabaseError('INVALID_INPUT', `SQL error: ${message}`, cause);
  }
  // SQLITE_CANTOPEN, SQLITE_IOERR*, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB…: the driver text may carry a path.
  return new DatabaseError('UNAVAILABLE', `Database storage error (${code})`, cause);
}

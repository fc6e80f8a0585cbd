import type { ErrorCode } from '@mcp-sse/core';

import { DatabaseError } from './errors.js';

/** The fields of a PostgreSQL error response that are safe to show (pg's DatabaseError, duck-typed). */
interface PgServerError {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  position?: string;
}

function isPgServerError(error: unknown): error is PgServerError {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, severity } = error as Record<string, unknown>;
  return (
    typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof message === 'string' && severity !== undefined
  );
}

const CONNECTION_URL = /\b(postgres(?:ql)?):\/\/[^\s'"]*/gi;

/**
 * Removes the connection string, its password and any postgres:// URL from a text. Used on every
 * message that leaves the service or reaches the log, whatever produced it.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out.replace(CONNECTION_URL, '$1://[redacted]');
}

/** The password (decoded) inside a connection string, so that it can be redacted on its own too. */
export function secretsOf(connectionString: string): string[] {
  const secrets = [connectionString];
  try {
    const url = new URL(connectionString);
    if (url.password) secrets.push(url.password, decodeURIComponent(url.password));
  } catch {
    // Not a URL (e.g. a socket path form): the whole string is still redacted.
  }
  const keyword = /password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/i.exec(connectionString);
  if (keyword?.[1]) secrets.push(keyword[1].replace(/^'|'$/g, ''));
  return [...new Set(secrets)].sort((a, b) => b.length - a.length);
}

export interface TranslateContext {
  accessMode: 'read_only' | 'read_write';
  statementTimeoutMs: number;
  /** True when our own abort (tool timeout, client cancellation) cancelled the statement. */
  aborted: boolean;
  secrets: readonly string[];
}

/** A copy of the driver's error with every text field redacted, kept as `cause` for the service log. */
export function safeCause(error: unknown, secrets: readonly string[]): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const copy = new Error(redact(source.message, secrets));
  copy.name = source.name;
  copy.stack = redact(source.stack ?? '', secrets);
  const code = (source as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}

function codeFor(sqlstate: string): ErrorCode {
  if (sqlstate === '57014') return 'TIMEOUT';
  if (sqlstate === '25006' || sqlstate === '42501') return 'FORBIDDEN';
  if (['42P01', '42883', '42703', '3D000', '3F000', '42704'].includes(sqlstate)) return 'NOT_FOUND';
  const sqlClass = sqlstate.slice(0, 2);
  switch (sqlClass) {
    case '22': // data exception
    case '42': // syntax error or access rule violation
    case '0A': // feature not supported
    case '21': // cardinality violation
    case '2B':
    case '2F':
    case '39':
    case '44':
    case '25': // invalid transaction state (e.g. VACUUM inside a transaction block)
    case '26':
    case '34':
      return 'INVALID_INPUT';
    case '23': // integrity constraint violation
    case '40': // serialization failure, deadlock
    case '55': // object not in prerequisite state (lock not available)
      return 'CONFLICT';
    case '08': // connection exception
    case '28': // invalid authorization
    case '53': // insufficient resources
    case '57': // operator intervention (shutdown)
    case '58':
      return 'UNAVAILABLE';
    default:
      return 'UPSTREAM_FAILED';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * Turns anything pg throws into a DatabaseError with a safe message: SQLSTATE plus the server's message
 * (which never holds the password), and for connection failures only the error class, never the host,
 * user or URL. A redacted copy of the original error is kept as `cause` for the log.
 */
export function translatePgError(error: unknown, context: TranslateContext): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const clean = (text: string) => redact(text, context.secrets);
  const cause = safeCause(error, context.secrets);

  if (isPgServerError(error)) {
    const { code } = error;
    if (code === '57014') {
      return context.aborted
        ? new DatabaseError('CANCELLED', 'The statement was cancelled (the call was cancelled or ran out of time).', {
            cause,
          })
        : new DatabaseError(
            'TIMEOUT',
            `The statement ran longer than POSTGRES_STATEMENT_TIMEOUT_MS (${context.statementTimeoutMs} ms) and was cancelled by the server (SQLSTATE 57014).`,
            { cause },
          );
    }
    if (/^57P0[1-5]$/.test(code) || code.startsWith('08')) {
      return new DatabaseError(
        'UNAVAILABLE',
        `The database closed this call's connection (${clean(error.message)}, SQLSTATE ${code}). The call did not complete; try again.`,
        { cause, sqlstate: code },
      );
    }
    if (code.startsWith('28')) {
      return new DatabaseError('UNAVAILABLE', `Database authentication failed (SQLSTATE ${code}).`, { cause });
    }
    let message = `${clean(error.message)} (SQLSTATE ${code})`;
    if (code === '25006') {
      message =
        context.accessMode === 'read_only'
          ? `Refused by the database: ${clean(error.message)} (SQLSTATE 25006). This service runs with POSTGRES_ACCESS_MODE=read_only.`
          : `Refused by the database: ${clean(error.message)} (SQLSTATE 25006). The database role has default_transaction_read_only = on, or the server is a read-only standby.`;
    }
    const sentence = (text: string) => clean(text).replace(/\.\s*$/, '');
    if (error.detail) message += `. Detail: ${sentence(error.detail)}`;
    if (error.hint) message += `. Hint: ${sentence(error.hint)}`;
    if (error.position) message += `. At character ${error.position} of the statement.`;
    return new DatabaseError(codeFor(code), message, { cause, sqlstate: code });
  }

  const sysCode = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof sysCode === 'string' && NETWORK_CODES.has(sysCode)) {
    return new DatabaseError('UNAVAILABLE', `Cannot reach the database server (${sysCode}).`, { cause });
  }
  // Matched on the redacted text, so that words inside the connection string (sslmode) cannot mislead.
  const text = clean(error instanceof Error ? error.message : String(error));
  if (/timeout exceeded when trying to connect|connection timeout/i.test(text)) {
    return new DatabaseError(
      'UNAVAILABLE',
      'No database connection within POSTGRES_CONNECT_TIMEOUT_MS: the server is slow or unreachable, or the pool is exhausted.',
      { cause },
    );
  }
  if (/connection terminated|terminating connection|Client has encountered a connection error/i.test(text)) {
    return new DatabaseError(
      'UNAVAILABLE',
      'The connection to the database was lost during the call (the server or the network closed it). The call did not complete; try again.',
      { cause },
    );
  }
  if (
    /self[- ]signed certificate|certificate (has expired|verify)|unable to (verify|get local issuer)|does not support SSL|SSL (routines|connection|is not enabled)|TLS/i.test(
      text,
    )
  ) {
    return new DatabaseError(
      'UNAVAILABLE',
      'TLS negotiation with the database failed; check sslmode in DATABASE_URL.',
      {
        cause,
      },
    );
  }
  return new DatabaseError('UPSTREAM_FAILED', 'The database driver failed; see the service log for details.', {
    cause,
  });
}

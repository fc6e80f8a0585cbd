/**
 * The one error table: a code names a failure class once, with its JSON-RPC code and HTTP status.
 * Released codes are never reused. Custom JSON-RPC numbers stay clear of the ones MCP assigns
 * (-32002, -32021, -32022, -32042).
 */
export const ERROR_CODES = {
  INVALID_INPUT: { jsonRpc: -32602, http: 400 },
  NOT_FOUND: { jsonRpc: -32004, http: 404 },
  FORBIDDEN: { jsonRpc: -32003, http: 403 },
  UNAUTHORIZED: { jsonRpc: -32001, http: 401 },
  CONFLICT: { jsonRpc: -32009, http: 409 },
  RATE_LIMITED: { jsonRpc: -32029, http: 429 },
  PAYLOAD_TOO_LARGE: { jsonRpc: -32013, http: 413 },
  RESULT_TOO_LARGE: { jsonRpc: -32014, http: 500 },
  UNAVAILABLE: { jsonRpc: -32011, http: 503 },
  UPSTREAM_FAILED: { jsonRpc: -32010, http: 502 },
  TIMEOUT: { jsonRpc: -32008, http: 504 },
  CANCELLED: { jsonRpc: -32007, http: 499 },
  INTERNAL: { jsonRpc: -32603, http: 500 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** JSON-RPC 2.0 codes the protocol layer itself uses. */
export const JSON_RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
} as const;

export interface ServiceErrorOptions {
  cause?: unknown;
  /** Safe, structured detail for the client (never secrets or internals). */
  data?: unknown;
}

/** What a tool handler throws for an expected failure; its message reaches the client as is. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly data: unknown;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: ServiceErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.data = options.data;
  }
  get jsonRpcCode(): number {
    return ERROR_CODES[this.code].jsonRpc;
  }
  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }
}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof ServiceError;
}

/**
 * An expected failure thrown by a domain module, which imports nothing from the core: an Error whose
 * `code` is a key of ERROR_CODES and whose `expose` is true, meaning its message was written for the
 * caller (the convention of http-errors). The core treats it as a ServiceError with that code and
 * message, so a service needs no mapError for its own errors.
 */
export interface ExposedError extends Error {
  readonly code: ErrorCode;
  readonly expose: true;
}

export function isExposedError(error: unknown): error is ExposedError {
  if (!(error instanceof Error)) return false;
  const { code, expose } = error as Error & { code?: unknown; expose?: unknown };
  return expose === true && typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/**
 * Turns anything thrown into a ServiceError. Unknown errors become INTERNAL with a generic message
 * unless debug is on, so that driver text, SQL or paths never reach a client by default.
 */
export function toServiceError(error: unknown, debug = false): ServiceError {
  if (error instanceof ServiceError) return error;
  if (isExposedError(error)) return new ServiceError(error.code, error.message, { cause: error.cause ?? error });
  const detail = error instanceof Error ? error.message : String(error);
  return new ServiceError('INTERNAL', debug ? `Internal error: ${detail}` : 'Internal error', { cause: error });
}

/** Thrown by loadConfig; its message is one line naming the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

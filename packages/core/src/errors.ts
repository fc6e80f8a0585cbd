import { type JsonRpcErrorBody, type JsonRpcId, rpcError } from './json-rpc.js';

/**
 * The one error table: a code names a failure class once, with its JSON-RPC code and the HTTP status
 * it has when it is the answer to a request. Every status and JSON-RPC code the core answers comes
 * from here, and distinct failures have distinct JSON-RPC codes (a test checks). Released codes are
 * never reused. Custom numbers stay clear of the ones MCP assigns (-32002, -32021, -32022, -32042).
 *
 * Tool failures (first group) reach an MCP client as an isError result carrying the message; their
 * HTTP status matters only on /rpc, where a tool result travels with 200 except RATE_LIMITED (429).
 */
export const ERROR_CODES = {
  // What a tool call can fail with.
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
  // What only the HTTP layer answers (the gate, the transports, /rpc).
  PARSE_ERROR: { jsonRpc: -32700, http: 400 },
  INVALID_REQUEST: { jsonRpc: -32600, http: 400 },
  /** A JSON-RPC method this endpoint does not serve (on /rpc it travels in a 200 answer). */
  METHOD_NOT_FOUND: { jsonRpc: -32601, http: 404 },
  /** A request that needs a session id and has none (the SDK's own "Bad Request" code). */
  SESSION_REQUIRED: { jsonRpc: -32000, http: 400 },
  /** An unknown session id, or one that belongs to another identity (not revealed). */
  SESSION_NOT_FOUND: { jsonRpc: -32005, http: 404 },
  METHOD_NOT_ALLOWED: { jsonRpc: -32006, http: 405 },
  UNSUPPORTED_MEDIA_TYPE: { jsonRpc: -32015, http: 415 },
  /** Every session slot is taken (MCP_MAX_SESSIONS), even after evicting idle ones. */
  TOO_MANY_SESSIONS: { jsonRpc: -32016, http: 503 },
  /** One identity holds its share of the sessions, or opens them too fast. */
  SESSION_QUOTA: { jsonRpc: -32017, http: 429 },
  SHUTTING_DOWN: { jsonRpc: -32018, http: 503 },
  /** The request body did not arrive within MCP_BODY_TIMEOUT_MS. */
  BODY_TIMEOUT: { jsonRpc: -32019, http: 408 },
  /** The replica that holds a session did not answer a forwarded request in time (MCP_FORWARD_TIMEOUT_MS). */
  FORWARD_TIMEOUT: { jsonRpc: -32020, http: 504 },
  /** The shared session store (MCP_SESSION_STORE) cannot be reached: no new session, no lookup. */
  SESSION_STORE_UNAVAILABLE: { jsonRpc: -32023, http: 503 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A failure answered at the HTTP layer: its status, headers and JSON-RPC error body. */
export interface HttpFailure {
  status: number;
  headers: Record<string, string>;
  body: JsonRpcErrorBody;
}

/** The HTTP answer for `code`: status and JSON-RPC code from the table. */
export function httpFailure(
  code: ErrorCode,
  message: string,
  options: { headers?: Record<string, string>; id?: JsonRpcId } = {},
): HttpFailure {
  const entry = ERROR_CODES[code];
  return { status: entry.http, headers: options.headers ?? {}, body: rpcError(entry.jsonRpc, message, options.id) };
}

/** The JSON-RPC error body for `code` (for answers inside a JSON-RPC exchange, e.g. on /rpc). */
export function rpcFailure(code: ErrorCode, message: string, id: JsonRpcId = null): JsonRpcErrorBody {
  return rpcError(ERROR_CODES[code].jsonRpc, message, id);
}

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

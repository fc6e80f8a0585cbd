/**
 * The failure classes of fetching over the network (the fetch service, OAuth client metadata documents).
 * Each kind has a core error code, so the core answers a FetchError as it would a ServiceError, and
 * these modules stay free of MCP and core imports.
 */
export type FetchErrorKind =
  | 'INVALID_INPUT' // a URL, header or pagination argument the caller got wrong
  | 'REFUSED' // SSRF policy: scheme, denied host, private address
  | 'ROBOTS' // robots.txt disallows the URL
  | 'DNS' // the name does not resolve
  | 'CONNECT' // connection, TLS or protocol failure talking to the server
  | 'TIMEOUT' // FETCH_TIMEOUT_MS elapsed
  | 'CANCELLED' // the caller's signal fired
  | 'TOO_MANY_REDIRECTS'
  | 'UNSUPPORTED_CONTENT'; // binary body, unknown content-encoding, invalid JSON for format=json

/** The core error code of each kind (the names of the core's ERROR_CODES, written here to keep this module import-free). */
const CODES = {
  INVALID_INPUT: 'INVALID_INPUT',
  REFUSED: 'FORBIDDEN',
  ROBOTS: 'FORBIDDEN',
  DNS: 'UPSTREAM_FAILED',
  CONNECT: 'UPSTREAM_FAILED',
  TIMEOUT: 'TIMEOUT',
  CANCELLED: 'CANCELLED',
  TOO_MANY_REDIRECTS: 'UPSTREAM_FAILED',
  UNSUPPORTED_CONTENT: 'UPSTREAM_FAILED',
} as const satisfies Record<FetchErrorKind, string>;

/** An expected failure; its message is written for the caller (`expose`), its `code` is the core's. */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  readonly expose = true;
  get code(): (typeof CODES)[FetchErrorKind] {
    return CODES[this.kind];
  }
  constructor(
    readonly kind: FetchErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isFetchError(error: unknown): error is FetchError {
  return error instanceof FetchError;
}

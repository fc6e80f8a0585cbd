/**
 * The failure classes of the fetch domain. The tool layer maps each kind to a ServiceError code, so
 * these modules stay free of MCP and core imports and can be unit-tested on their own.
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

export class FetchError extends Error {
  override readonly name = 'FetchError';
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

/**
 * The GitHub domain's own error: these modules stay free of MCP and server imports; its `code` is a
 * core error code and `expose` marks its message safe, so the core answers it as a ServiceError.
 * Messages are written for the caller: they say what GitHub answered and what to do about it, and
 * never carry the token, request headers or a signed URL.
 */
export type GitHubErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'UPSTREAM_FAILED'
  | 'PAYLOAD_TOO_LARGE';

export class GitHubError extends Error {
  override readonly name = 'GitHubError';
  /** The message is written for the caller: the core shows it as is. */
  readonly expose = true;
  constructor(
    readonly code: GitHubErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** An answer over GITHUB_MAX_RESPONSE_BYTES, refused before it is read whole. */
export function answerTooLarge(maxBytes: number): GitHubError {
  return new GitHubError(
    'UPSTREAM_FAILED',
    `GitHub's answer is larger than GITHUB_MAX_RESPONSE_BYTES (${maxBytes} bytes); ask for less (a smaller per_page)`,
  );
}

/** Shows a caller-supplied value in a message: quoted, and cut short so a huge input cannot flood the reply. */
export function showValue(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

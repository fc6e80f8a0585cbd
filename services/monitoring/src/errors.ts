/**
 * The domain's own error: the engine, log, Loki and host modules stay free of MCP and server imports;
 * its `code` is a core error code and `expose` marks its message safe, so the core answers it as a
 * ServiceError. Messages are written for the caller: they say what was wrong and never carry
 * secrets (Loki credentials, masked values) or internals.
 */
export type MonitoringErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'CONFLICT'
  | 'UNAVAILABLE'
  | 'UPSTREAM_FAILED'
  | 'TIMEOUT'
  | 'PAYLOAD_TOO_LARGE';

export class MonitoringError extends Error {
  override readonly name = 'MonitoringError';
  /** The message is written for the caller: the core shows it as is. */
  readonly expose = true;
  /** `unsupported`: the engine cannot do this for this object (e.g. read logs of a driver without reading). */
  readonly kind: 'unsupported' | undefined;
  constructor(
    readonly code: MonitoringErrorCode,
    message: string,
    options: { cause?: unknown; kind?: 'unsupported' } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = options.kind;
  }
}

/** Shows a caller-supplied value in a message: JSON-quoted (control characters escaped) and cut short. */
export function shown(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

import type { LoggerOptions } from 'pino';

/**
 * pino options: JSON lines on stdout, secrets redacted wherever they could appear in a log object.
 */
export function loggerOptions(level: string, service: string): LoggerOptions {
  return {
    level,
    base: { service },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    // Exact paths only: wildcard paths send every key of every line through pino's slow redaction
    // path (a third of a tool call's cost in `pnpm bench`). Secrets never go into log objects; these
    // paths cover the request headers fastify or a handler might log.
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'req.headers.cookie',
        'headers.authorization',
        'headers["x-api-key"]',
      ],
      censor: '[redacted]',
    },
  };
}

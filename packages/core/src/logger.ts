import type { LoggerOptions } from 'pino';

/**
 * pino options: JSON lines on stdout, secrets redacted wherever they could appear in a log object.
 */
export function loggerOptions(level: string, service: string): LoggerOptions {
  return {
    level,
    base: { service },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'req.headers.cookie',
        'headers.authorization',
        'headers["x-api-key"]',
        '*.password',
        '*.connectionString',
        '*.DATABASE_URL',
        '*.GITHUB_TOKEN',
        '*.MCP_API_KEYS',
      ],
      censor: '[redacted]',
    },
  };
}

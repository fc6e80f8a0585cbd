import { type Logger, type LoggerOptions, pino } from 'pino';

let lastMs = 0;
let lastTime = '';
/** pino's ISO time, formatted once per millisecond: a busy service writes many lines in each. */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/**
 * pino options: JSON lines on stdout, secrets redacted wherever they could appear in a log object.
 */
export function loggerOptions(level: string, service: string): LoggerOptions {
  return {
    level,
    base: { service },
    timestamp: isoTime,
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

/**
 * The process logger of a service. With `flushMs` > 0, lines are buffered (up to 4 KiB) and written
 * at least every `flushMs` and on exit: a synchronous write per line (pino's default) was the
 * costliest part of a trivial tool call in `pnpm bench`, one syscall per audit line. A process
 * killed with SIGKILL loses at most the last `flushMs` of lines. 0 writes each line at once.
 */
export function createLogger(level: string, service: string, flushMs: number): Logger {
  if (flushMs <= 0) return pino(loggerOptions(level, service), pino.destination({ dest: 1, sync: true }));
  // pino flushes a non-sync destination on exit (including process.exit) by itself.
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => {
    // flush() throws while the file descriptor is still being opened; the next tick tries again.
    try {
      destination.flush();
    } catch {
      /* not ready yet */
    }
  }, flushMs);
  timer.unref();
  destination.on('close', () => clearInterval(timer));
  return pino(loggerOptions(level, service), destination);
}

/** A pino line of a service's output, as far as the fuzz checks read it. */
export interface LogLine {
  level: number;
  msg?: string;
  err?: { type?: string; message?: string; stack?: string };
}

const PINO_ERROR = 50;

/** The JSON log lines of a service's output (other lines, such as a runtime's warnings, are left out). */
export function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of output.split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(text) as Partial<LogLine>;
      if (typeof parsed.level === 'number') lines.push(parsed as LogLine);
    } catch {
      // A line cut by a crash, or not ours.
    }
  }
  return lines;
}

/** Error lines that name a cause: an `err` with a non-empty message (what a 5xx must leave behind). */
export function errorsWithCause(output: string): LogLine[] {
  return logLines(output).filter(
    (line) => line.level >= PINO_ERROR && typeof line.err?.message === 'string' && line.err.message !== '',
  );
}

/** One HTTP exchange a client made, recorded by recordingFetch. */
export interface HttpExchange {
  method: string;
  url: string;
  status: number;
}

/** A fetch that records each response's status (the SDK client hides them behind its transport). */
export function recordingFetch(exchanges: HttpExchange[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    exchanges.push({ method: init?.method ?? 'GET', url, status: response.status });
    return response;
  };
}

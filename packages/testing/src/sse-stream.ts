import { request } from 'node:http';

export interface SseStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The session id announced by the legacy transport's `endpoint` event. */
  sessionId: string;
  /** Everything received so far. */
  text(): string;
  /** Resolves once the received text matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
}

/** Opens a raw legacy SSE stream (GET /sse) and keeps it open until close(). */
export function openSseStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const waiters = new Set<() => void>();
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        sessionId: '',
        text: () => buffer,
        waitFor: (pattern, timeoutMs = 2000) =>
          new Promise((done, fail) => {
            const check = () => {
              const match = pattern.exec(buffer);
              if (match) {
                waiters.delete(check);
                clearTimeout(timer);
                done(match[0]);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out waiting for ${pattern}; got: ${buffer.slice(-500)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        close: () => req.destroy(),
      };
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (const waiter of [...waiters]) waiter();
      });
      res.on('error', () => undefined);
      if (stream.status !== 200) {
        resolve(stream);
        return;
      }
      stream
        .waitFor(/sessionId=([0-9a-f-]+)/)
        .then((match) => {
          stream.sessionId = match.split('=')[1] ?? '';
          resolve(stream);
        })
        .catch(reject);
    });
    req.on('error', (error) => {
      if (!(error as NodeJS.ErrnoException).code?.includes('ECONNRESET')) reject(error);
    });
    req.end();
  });
}

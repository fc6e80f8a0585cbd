import { request } from 'node:http';

import { createParser, type EventSourceMessage } from 'eventsource-parser';

export type SseEvent = EventSourceMessage;

export interface SseStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The session id announced by the legacy transport's `endpoint` event. */
  sessionId: string;
  /** Everything received so far, comments (keepalives) included. */
  text(): string;
  /** The events received so far, parsed (comments are not events). */
  events(): SseEvent[];
  /** Resolves once the received text matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the first event (received so far or later) that `match` accepts. */
  waitForEvent(match: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

/** The events of a complete SSE body (a Streamable HTTP POST answer), parsed by eventsource-parser. */
export function parseSseEvents(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  parser.feed(text);
  return events;
}

/** Opens a raw legacy SSE stream (GET /sse) and keeps it open until close(). */
export function openSseStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const events: SseEvent[] = [];
    const waiters = new Set<() => void>();
    const parser = createParser({ onEvent: (event) => events.push(event) });
    /** Resolves once `find` returns something, checked on every chunk. */
    const waitFor = <T>(find: () => T | undefined, what: string, timeoutMs: number) =>
      new Promise<T>((done, fail) => {
        const check = () => {
          const found = find();
          if (found !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            done(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`timed out waiting for ${what}; got: ${buffer.slice(-500)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        sessionId: '',
        text: () => buffer,
        events: () => [...events],
        waitFor: (pattern, timeoutMs = 2000) => waitFor(() => pattern.exec(buffer)?.[0], String(pattern), timeoutMs),
        waitForEvent: (match, timeoutMs = 2000) => waitFor(() => events.find(match), 'an event', timeoutMs),
        close: () => req.destroy(),
      };
      res.on('data', (chunk: string) => {
        buffer += chunk;
        parser.feed(chunk);
        for (const waiter of [...waiters]) waiter();
      });
      res.on('error', () => undefined);
      if (stream.status !== 200) {
        resolve(stream);
        return;
      }
      stream
        .waitForEvent((event) => event.event === 'endpoint')
        .then((endpoint) => {
          stream.sessionId = new URL(endpoint.data, 'http://localhost').searchParams.get('sessionId') ?? '';
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

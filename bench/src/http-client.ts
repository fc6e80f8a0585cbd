import type { IncomingHttpHeaders } from 'node:http';

import type { Client, Dispatcher } from 'undici';

/**
 * The load generator's HTTP layer: undici's lowest-level API (dispatch with a handler), one
 * keep-alive connection per Client and no pipelining, so that the generator stays cheap and never
 * runs ahead of a server.
 */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  method: Dispatcher.HttpMethod;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export function request(client: Client, options: RequestOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    client.dispatch(
      { method: options.method, path: options.path, headers: options.headers, body: options.body },
      {
        // Its presence selects undici's controller-style handler API.
        onRequestStart() {},
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode;
          headers = responseHeaders;
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          resolve({
            status,
            headers,
            body: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
          });
        },
        onResponseError(_controller, error) {
          reject(error);
        },
      },
    );
  });
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Incremental text/event-stream parser: feed it chunks, it calls back once per complete event. */
export class SseParser {
  private buffer = '';
  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.includes('\r')) this.buffer = this.buffer.replace(/\r\n?/g, '\n');
    let end = this.buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.dispatch(block);
      end = this.buffer.indexOf('\n\n');
    }
  }

  private dispatch(block: string): void {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line[5] === ' ' ? 6 : 5);
      else if (line.startsWith('event:')) event = line.slice(line[6] === ' ' ? 7 : 6);
      // Comments (": keepalive"), id: and retry: lines carry nothing the bench needs.
    }
    if (data !== '' || event !== 'message') this.onEvent({ event, data });
  }
}

export interface OpenStream {
  status: number;
  /** Ends the stream from the client side (the connection is dropped, as a closing client does). */
  close(): void;
  /** Settles when the stream ends, whoever ended it. */
  ended: Promise<void>;
}

/** Opens a long-lived GET event stream; resolves once the response headers are in. */
export function openStream(
  client: Client,
  path: string,
  headers: Record<string, string>,
  onEvent: (event: SseEvent) => void,
): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const parser = new SseParser(onEvent);
    let controller: Dispatcher.DispatchController | undefined;
    let closedByUs = false;
    let settleEnded: () => void = () => undefined;
    const ended = new Promise<void>((done) => {
      settleEnded = done;
    });
    const decoder = new TextDecoder();
    client.dispatch(
      { method: 'GET', path, headers: { accept: 'text/event-stream', ...headers } },
      {
        onRequestStart(c) {
          controller = c;
        },
        onResponseStart(_c, statusCode) {
          resolve({
            status: statusCode,
            close: () => {
              closedByUs = true;
              controller?.abort(new Error('closed by the bench'));
            },
            ended,
          });
        },
        onResponseData(_c, chunk) {
          parser.push(decoder.decode(chunk, { stream: true }));
        },
        onResponseEnd() {
          settleEnded();
        },
        onResponseError(_c, error) {
          settleEnded();
          if (!closedByUs) reject(error);
        },
      },
    );
  });
}

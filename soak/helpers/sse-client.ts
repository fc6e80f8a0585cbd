import type { Agent } from 'node:http';
import { type ClientRequest, type IncomingMessage, request } from 'node:http';

/** One parsed SSE event (comments are counted apart, not returned). */
export interface SseEvent {
  event: string;
  data: string;
}

/** A JSON-RPC message as it arrives on a stream. */
export interface RpcMessage {
  jsonrpc: '2.0';
  id?: number | string;
  method?: string;
  result?: unknown;
  error?: { code: number; message: string };
}

/**
 * Incremental SSE framing (the WHATWG rules the suite needs: `event:` and `data:` lines, comment
 * lines, blank-line separators). A few lines of code keep 1,000 streams cheap in the test process.
 */
export class SseParser {
  private buffer = '';
  comments = 0;
  lastCommentAt = 0;
  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  feed(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\n\n'); end !== -1; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      let comment = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comment = true;
        else if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) this.onEvent({ event, data: data.join('\n') });
      else if (comment) {
        this.comments += 1;
        this.lastCommentAt = Date.now();
      }
    }
  }
}

/** How a stream ended: `end` is the server's orderly close (FIN after the last byte); `error` a reset. */
export type StreamEnd = { how: 'end' } | { how: 'error'; code: string };

export const JSON_POST = { 'content-type': 'application/json' } as const;

/** Sends one POST and resolves with its status and body (the socket's error rejects). */
export function post(
  url: string,
  body: unknown,
  agent: Agent,
  headers: Record<string, string> = JSON_POST,
): Promise<{ status: number; headers: IncomingMessage['headers']; text: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(payload)) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * A legacy SSE session (GET /sse + POST /messages) on raw node:http: the stream's events, its
 * keepalive comments, the answers by request id, and how the stream ended.
 */
export class SseSession {
  sessionId = '';
  ended: StreamEnd | undefined;
  readonly parser: SseParser;
  private readonly answers = new Map<number | string, RpcMessage>();
  private readonly waiting = new Map<number | string, (message: RpcMessage) => void>();
  private req: ClientRequest | undefined;
  private nextId = 1;
  private endpointSeen: (() => void) | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly postAgent: Agent,
  ) {
    this.parser = new SseParser((event) => this.onEvent(event));
  }

  /** Opens the stream and resolves once the `endpoint` event names the session. */
  open(streamAgent: Agent | false = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.endpointSeen = resolve;
      this.req = request(
        `${this.baseUrl}/sse`,
        { agent: streamAgent, headers: { accept: 'text/event-stream' } },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`GET /sse answered ${res.statusCode}`));
            res.resume();
            return;
          }
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => this.parser.feed(chunk));
          res.on('end', () => (this.ended ??= { how: 'end' }));
          res.on(
            'error',
            (error: NodeJS.ErrnoException) => (this.ended ??= { how: 'error', code: error.code ?? 'error' }),
          );
        },
      );
      this.req.on('error', (error: NodeJS.ErrnoException) => {
        this.ended ??= { how: 'error', code: error.code ?? 'error' };
        reject(error);
      });
      this.req.end();
    });
  }

  private onEvent(event: SseEvent): void {
    if (event.event === 'endpoint') {
      this.sessionId = new URL(event.data, 'http://localhost').searchParams.get('sessionId') ?? '';
      this.endpointSeen?.();
      return;
    }
    const message = JSON.parse(event.data) as RpcMessage;
    if (message.id === undefined || message.method !== undefined) return;
    const waiter = this.waiting.get(message.id);
    if (waiter) {
      this.waiting.delete(message.id);
      waiter(message);
    } else this.answers.set(message.id, message);
  }

  get alive(): boolean {
    return this.ended === undefined && this.req?.destroyed === false;
  }

  /** POSTs one message to the session; resolves with the HTTP status (202 when accepted). */
  async send(message: Record<string, unknown>): Promise<number> {
    const answer = await post(`${this.baseUrl}/messages?sessionId=${this.sessionId}`, message, this.postAgent);
    return answer.status;
  }

  /** Sends a request and resolves with its answer from the stream (rejects when not accepted or late). */
  async request(method: string, params: Record<string, unknown>, timeoutMs = 30_000): Promise<RpcMessage> {
    const id = this.nextId++;
    const answered = this.answerOf(id, timeoutMs);
    const status = await this.send({ jsonrpc: '2.0', id, method, params });
    if (status !== 202) throw new Error(`POST /messages (${method}) answered ${status}`);
    return answered;
  }

  /** The answer to request `id`, received already or still to come. */
  answerOf(id: number | string, timeoutMs: number): Promise<RpcMessage> {
    const known = this.answers.get(id);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer to request ${id} on session ${this.sessionId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
  }

  /** The MCP handshake: initialize, then the initialized notification. */
  async initialize(): Promise<void> {
    const answer = await this.request('initialize', {
      protocolVersion: '2024-11-05',
      capabilities: {},
      clientInfo: { name: 'soak', version: '1.0.0' },
    });
    if (answer.error) throw new Error(`initialize failed: ${answer.error.message}`);
    const status = await this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (status !== 202) throw new Error(`notifications/initialized answered ${status}`);
  }

  /** A tools/call's answer from the stream. */
  callTool(name: string, args: Record<string, unknown>, timeoutMs?: number): Promise<RpcMessage> {
    return this.request('tools/call', { name, arguments: args }, timeoutMs);
  }

  /** A call id reserved now, for a request sent later with `sendWithId` (to watch it across a shutdown). */
  reserveId(): number {
    return this.nextId++;
  }

  close(): void {
    this.req?.destroy();
  }
}

/** Runs `work` over `items` with at most `limit` at a time; resolves with the results in order. */
export async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

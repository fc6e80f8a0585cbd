import type { Client } from 'undici';

import { type OpenStream, openStream, request, SseParser } from './http-client.js';

/**
 * Just enough of an MCP client for the load generator: the legacy SSE transport and Streamable
 * HTTP, parsed by hand (no SDK Client, whose own cost would be measured otherwise).
 */
export const PROTOCOL_VERSION = '2025-06-18';

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: number | string | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

// Ids are unique across the whole run: supergateway's SSE mode sends every answer to every open
// stream, so a session must be able to tell its own answers from the others'.
let nextId = 1;
export const newId = (): number => nextId++;

const initializeParams = {
  protocolVersion: PROTOCOL_VERSION,
  capabilities: {},
  clientInfo: { name: 'mcp-sse-bench', version: '0.1.0' },
};

export interface McpSession {
  callTool(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Checks a tools/call answer: a result that is not an error. */
export function toolResult(response: JsonRpcResponse, name: string): Record<string, unknown> {
  if (response.error) throw new Error(`${name}: JSON-RPC error ${response.error.code}: ${response.error.message}`);
  const result = response.result;
  if (!result) throw new Error(`${name}: answer without a result`);
  if (result['isError'] === true)
    throw new Error(`${name}: tool error: ${JSON.stringify(result['content']).slice(0, 300)}`);
  return result;
}

function isResponse(value: unknown): value is JsonRpcResponse {
  return value !== null && typeof value === 'object' && 'id' in value && ('result' in value || 'error' in value);
}

/** Legacy HTTP+SSE: GET the stream, POST to the announced endpoint, match answers on the stream by id. */
export class SseSession implements McpSession {
  private readonly pending = new Map<
    number | string,
    { resolve: (r: JsonRpcResponse) => void; reject: (e: Error) => void }
  >();
  private stream: OpenStream | undefined;
  private messagesPath = '';

  private constructor(
    private readonly streamClient: Client,
    private readonly postClient: Client,
  ) {}

  static async open(streamClient: Client, postClient: Client, ssePath: string): Promise<SseSession> {
    const session = new SseSession(streamClient, postClient);
    await session.start(ssePath);
    return session;
  }

  private async start(ssePath: string): Promise<void> {
    let announce: (path: string) => void = () => undefined;
    const announced = new Promise<string>((resolve) => {
      announce = resolve;
    });
    this.stream = await openStream(this.streamClient, ssePath, {}, (event) => {
      if (event.event === 'endpoint') {
        const url = new URL(event.data, 'http://127.0.0.1');
        announce(url.pathname + url.search);
      } else if (event.event === 'message') {
        const message = JSON.parse(event.data) as unknown;
        if (isResponse(message) && message.id !== null) this.pending.get(message.id)?.resolve(message);
      }
    });
    if (this.stream.status !== 200) throw new Error(`GET ${ssePath}: HTTP ${this.stream.status}`);
    void this.stream.ended.then(() => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('SSE stream ended'));
      this.pending.clear();
    });
    this.messagesPath = await announced;
    checkInitialized(await this.request('initialize', initializeParams));
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  private async post(message: Record<string, unknown>): Promise<void> {
    const response = await request(this.postClient, {
      method: 'POST',
      path: this.messagesPath,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
    });
    if (response.status !== 202 && response.status !== 200) {
      throw new Error(`POST ${this.messagesPath}: HTTP ${response.status}: ${response.body.slice(0, 200)}`);
    }
  }

  async request(method: string, params: Record<string, unknown>): Promise<JsonRpcResponse> {
    const id = newId();
    const answer = new Promise<JsonRpcResponse>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    try {
      await this.post({ jsonrpc: '2.0', id, method, params });
      return await answer;
    } finally {
      this.pending.delete(id);
    }
  }

  async callTool(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    return toolResult(await this.request('tools/call', { name, arguments: args }), name);
  }

  async close(): Promise<void> {
    this.stream?.close();
    await this.stream?.ended;
  }
}

function checkInitialized(response: JsonRpcResponse): void {
  if (response.error) throw new Error(`initialize: ${response.error.message}`);
}

/** Streamable HTTP: POST initialize (the answer carries Mcp-Session-Id), then POSTs with the id, DELETE to end. */
export class StreamableSession implements McpSession {
  private sessionId: string | undefined;

  private constructor(
    private readonly client: Client,
    private readonly path: string,
  ) {}

  static async open(client: Client, path: string): Promise<StreamableSession> {
    const session = new StreamableSession(client, path);
    await session.start();
    return session;
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    if (this.sessionId) {
      headers['mcp-session-id'] = this.sessionId;
      headers['mcp-protocol-version'] = PROTOCOL_VERSION;
    }
    return headers;
  }

  private async start(): Promise<void> {
    const response = await this.post({ jsonrpc: '2.0', id: newId(), method: 'initialize', params: initializeParams });
    if (!response) throw new Error('initialize: no answer');
    checkInitialized(response);
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  /** POSTs one message; returns the answer to it (from a JSON body or an event stream), if any. */
  private async post(message: Record<string, unknown>): Promise<JsonRpcResponse | undefined> {
    const response = await request(this.client, {
      method: 'POST',
      path: this.path,
      headers: this.headers(),
      body: JSON.stringify(message),
    });
    if (response.status === 202) return undefined;
    if (response.status !== 200)
      throw new Error(`POST ${this.path}: HTTP ${response.status}: ${response.body.slice(0, 200)}`);
    if (message['method'] === 'initialize') {
      const id = response.headers['mcp-session-id'];
      if (typeof id === 'string') this.sessionId = id;
    }
    const contentType = String(response.headers['content-type'] ?? '');
    if (contentType.startsWith('application/json')) {
      const parsed = JSON.parse(response.body) as unknown;
      return isResponse(parsed) ? parsed : undefined;
    }
    let answer: JsonRpcResponse | undefined;
    const parser = new SseParser((event) => {
      if (event.event !== 'message' || event.data === '') return;
      const parsed = JSON.parse(event.data) as unknown;
      if (isResponse(parsed) && parsed.id === message['id']) answer = parsed;
    });
    parser.push(response.body);
    parser.push('\n\n');
    return answer;
  }

  async callTool(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const response = await this.post({
      jsonrpc: '2.0',
      id: newId(),
      method: 'tools/call',
      params: { name, arguments: args },
    });
    if (!response) throw new Error(`${name}: no answer in the response`);
    return toolResult(response, name);
  }

  async close(): Promise<void> {
    if (!this.sessionId) return;
    const response = await request(this.client, { method: 'DELETE', path: this.path, headers: this.headers() });
    // 405: a stateless server has nothing to end.
    if (response.status !== 200 && response.status !== 202 && response.status !== 204 && response.status !== 405) {
      throw new Error(`DELETE ${this.path}: HTTP ${response.status}`);
    }
  }
}

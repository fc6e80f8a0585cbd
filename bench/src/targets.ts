import { Client } from 'undici';

import type { Worker } from './load.js';
import { type JsonRpcResponse, type McpSession, SseSession, StreamableSession, toolResult } from './mcp-client.js';
import type { ServerProcess } from './processes.js';
import { jsonPost, RawHttpConnection } from './raw-http.js';

/** What a row of the table measures. */
export type Shape = 'session' | 'per-call' | 'request';
export type Transport = 'sse' | 'streamable-http' | 'rpc' | 'http' | 'pg';

export interface Target {
  /** Stable key for ratios and the JSON file: `core/sse/session`. */
  id: string;
  section: string;
  label: string;
  transport: Transport;
  shape: Shape;
  /** Starts this target's own server process; absent for in-process baselines (pg). */
  start?: () => Promise<ServerProcess>;
  createWorker(server: ServerProcess | undefined, index: number): Promise<Worker>;
  /** Runs once before the load (create a table, a file): not timed. */
  prepare?: () => Promise<void>;
}

export interface ToolCall {
  name: string;
  args: Record<string, unknown>;
  /** Throws when the result is not what the call should return. */
  check(result: Record<string, unknown>): void;
}

export interface Paths {
  sse: string;
  mcp: string;
  rpc: string;
}

/** Where every service built on the core serves its transports. */
export const CORE_PATHS: Paths = { sse: '/sse', mcp: '/mcp', rpc: '/rpc' };

const connection = (origin: string, stream = false): Client =>
  new Client(origin, {
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 30_000,
    // An event stream is quiet between events: no body timeout on it.
    bodyTimeout: stream ? 0 : 30_000,
  });

async function openSession(
  kind: 'sse' | 'streamable-http',
  post: Client,
  stream: Client,
  paths: Paths,
): Promise<McpSession> {
  return kind === 'sse' ? SseSession.open(stream, post, paths.sse) : StreamableSession.open(post, paths.mcp);
}

/** A long-lived session per worker, opened before the clock starts; each iteration is one tools/call. */
export function sessionWorker(kind: 'sse' | 'streamable-http', paths: Paths, call: ToolCall) {
  return async (server: ServerProcess | undefined): Promise<Worker> => {
    const origin = requireServer(server).origin;
    const post = connection(origin);
    const stream = connection(origin, true);
    const session = await openSession(kind, post, stream, paths);
    return {
      iteration: async () => call.check(await session.callTool(call.name, call.args)),
      close: async () => {
        await session.close().catch(() => undefined);
        await Promise.allSettled([post.close(), stream.destroy()]);
      },
    };
  };
}

/**
 * LiteLLM's pattern: a whole session per tool call. Streamable HTTP: initialize, initialized,
 * tools/call, DELETE. Legacy SSE: open the stream, initialize, initialized, call, close the stream.
 */
export function perCallWorker(kind: 'sse' | 'streamable-http', paths: Paths, call: ToolCall) {
  return async (server: ServerProcess | undefined): Promise<Worker> => {
    const origin = requireServer(server).origin;
    const post = connection(origin);
    const stream = connection(origin, true);
    return {
      iteration: async () => {
        const session = await openSession(kind, post, stream, paths);
        try {
          call.check(await session.callTool(call.name, call.args));
        } finally {
          await session.close();
        }
      },
      close: async () => {
        await Promise.allSettled([post.close(), stream.destroy()]);
      },
    };
  };
}

/**
 * One plain JSON-RPC POST per iteration (the core's /rpc, the bare echo), over the raw keep-alive
 * client: for these targets the server does about as little per request as undici would in the
 * generator, and the ceiling must not be the generator's.
 */
export function requestWorker(path: string, call: ToolCall) {
  return async (server: ServerProcess | undefined): Promise<Worker> => {
    const { port } = requireServer(server);
    const connection = new RawHttpConnection('127.0.0.1', port);
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: call.name, arguments: call.args },
    });
    const bytes = jsonPost('127.0.0.1', port, path, body);
    return {
      iteration: async () => {
        const response = await connection.send(bytes);
        if (response.status !== 200)
          throw new Error(`POST ${path}: HTTP ${response.status}: ${response.body.slice(0, 200)}`);
        call.check(toolResult(JSON.parse(response.body) as JsonRpcResponse, call.name));
      },
      close: async () => connection.close(),
    };
  };
}

function requireServer(server: ServerProcess | undefined): ServerProcess {
  if (!server) throw new Error('this target needs a server process');
  return server;
}

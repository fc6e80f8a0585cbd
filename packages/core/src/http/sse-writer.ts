import type { ServerResponse } from 'node:http';

import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * The headers of every SSE stream the core writes or hands to an SDK transport: no caching or
 * transformation, and `X-Accel-Buffering: no` so that nginx passes events through one by one.
 */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

/**
 * SSE_HEADERS plus a Streamable HTTP session's id, as one object literal: the fast lane writes it
 * on every tool call's answer, where spreading SSE_HEADERS into a new object cost more
 * (sse-writer.test.ts keeps the two equal).
 */
export function sseHeaders(sessionId: string) {
  return {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'mcp-session-id': sessionId,
  } as const;
}

/** One JSON-RPC message as an SSE event, framed the way the SDK transports frame theirs. */
export function sseMessageEvent(message: JSONRPCMessage): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

/**
 * How long the fast lane holds back the head of a tool call's SSE answer while the call sends
 * nothing: a call that ends within it is answered in one write. Far below any client's or proxy's
 * read timeout (LiteLLM 60 s, nginx 60 s), and short enough that a long call's client sees the
 * head, then keepalives, as it would from the SDK transport.
 */
export const SSE_HEAD_HOLD_MS = 100;

/** The comment frame that keeps a quiet stream open through proxies (clients ignore comments). */
export const SSE_KEEPALIVE = ': keepalive\n\n';

/**
 * Writes a keepalive comment every `everyMs` until the response ends or closes (0 = never). The
 * timer is unref'd: it never keeps the process alive. Returns a function that stops it early.
 */
export function keepStreamAlive(res: ServerResponse, everyMs: number): () => void {
  if (everyMs <= 0) return noop;
  const timer = setInterval(() => {
    if (res.writableEnded || res.destroyed) stop();
    else res.write(SSE_KEEPALIVE);
  }, everyMs);
  timer.unref();
  const stop = () => {
    clearInterval(timer);
    res.off('close', stop);
  };
  res.once('close', stop);
  return stop;
}

const noop = (): void => undefined;

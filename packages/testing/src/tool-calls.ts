/**
 * A tool call from a test through a real MCP client, as a test reads it, and the two expectations
 * the services' tests make of one: it succeeds, with its text block carrying the same JSON as
 * structuredContent (Open WebUI shows only the text), or it is refused (isError) and says why.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect } from 'vitest';

import { rpc, type RpcOptions } from './rpc.js';

export interface ToolCallResult {
  isError: boolean;
  /** The first content block's text ('' when there is none). */
  text: string;
  structured: Record<string, unknown>;
}

export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolCallResult> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text?: string }[];
  return {
    isError: result.isError === true,
    text: content[0]?.text ?? '',
    structured: (result.structuredContent ?? {}) as Record<string, unknown>,
  };
}

/**
 * The same call over plain JSON-RPC (`POST /rpc`, no session), as curl or a cron script makes it.
 * Throws, with the body, when the answer carries no result (a JSON-RPC error, an HTTP error page).
 */
export async function rpcCallTool(
  baseUrl: string,
  name: string,
  args: Record<string, unknown> = {},
  options: RpcOptions = {},
): Promise<ToolCallResult> {
  const { status, body } = await rpc(baseUrl, 'tools/call', { name, arguments: args }, options);
  const result = (body as { result?: { isError?: boolean; content?: { text?: string }[]; structuredContent?: object } })
    ?.result;
  if (!result) throw new Error(`${name}: no result (HTTP ${status}): ${JSON.stringify(body)?.slice(0, 500)}`);
  return {
    isError: result.isError === true,
    text: result.content?.[0]?.text ?? '',
    structured: (result.structuredContent ?? {}) as Record<string, unknown>,
  };
}

/** A call that must succeed; its structuredContent, which its text block must repeat exactly. */
export async function callToolOk<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const result = await callTool(client, name, args);
  expect(result.isError, `${name} failed: ${result.text}`).toBe(false);
  expect(JSON.parse(result.text)).toEqual(result.structured);
  return result.structured as T;
}

/** A call that must be refused; its message. */
export async function callToolRefused(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<string> {
  const result = await callTool(client, name, args);
  expect(result.isError, `${name} should have been refused: ${result.text.slice(0, 300)}`).toBe(true);
  return result.text;
}

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect } from 'vitest';

export interface CallResult {
  isError: boolean;
  text: string;
  structured: Record<string, unknown>;
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallResult> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text?: string }[];
  return {
    isError: result.isError === true,
    text: content[0]?.text ?? '',
    structured: (result.structuredContent ?? {}) as Record<string, unknown>,
  };
}

export async function ok<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const result = await call(client, name, args);
  expect(result.isError, `${name} failed: ${result.text}`).toBe(false);
  // Open WebUI only shows `content`: it must carry the same JSON as structuredContent.
  expect(JSON.parse(result.text)).toEqual(result.structured);
  return result.structured as T;
}

export async function refused(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(client, name, args);
  expect(result.isError, `${name} should have been refused: ${result.text.slice(0, 200)}`).toBe(true);
  return result.text;
}

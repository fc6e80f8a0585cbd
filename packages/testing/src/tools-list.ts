import { type AnyServiceDefinition, loadConfig, type ToolListEntry, ToolRegistry } from '@mcp-sse/core';

import { type ClientTransportKind, connectClient } from './connect-client.js';

/**
 * A service's tools/list answer, as a client would see it with `env` (every toolset by default):
 * names, schemas and annotations, for the snapshot each service keeps in review
 * (`test/__snapshots__/tools-list.json`). Built without the service's dependencies: listing needs none.
 */
export function toolsListOf(service: AnyServiceDefinition, env: Record<string, string> = {}): ToolListEntry[] {
  const config = loadConfig(service.config, { MCP_TOOLSETS: 'all', ...env });
  return new ToolRegistry({ service: service.name, tools: service.tools, toolsets: service.toolsets, config, deps: {} })
    .listResult.tools;
}

/**
 * The tools/list a running service answers to a real client over `transport`, as plain JSON, to
 * compare with toolsListOf (the bundle tests: the image's bundle lists what the sources list).
 */
export async function listedTools(url: string, transport: ClientTransportKind = 'streamable-http'): Promise<unknown> {
  const client = await connectClient(url, transport);
  try {
    const { tools } = await client.listTools();
    return JSON.parse(JSON.stringify(tools)) as unknown;
  } finally {
    await client.close();
  }
}

import type { Toolsets } from '../define-service.js';
import { type AnyToolDefinition, resolveAnnotations } from '../define-tool.js';
import { ServiceError } from '../errors.js';

/** The settings that decide which tools exist. */
export interface ToolSelection {
  MCP_READ_ONLY: boolean;
  MCP_TOOLSETS: readonly string[];
}

/** The toolset ids MCP_TOOLSETS turns on: the defaults, `default,<extra>`, `all`, or a list. */
export function enabledToolsets(toolsets: Toolsets, requested: readonly string[]): Set<string> {
  let enabled: Set<string>;
  if (requested.length === 0 || requested.includes('default')) {
    enabled = new Set(Object.entries(toolsets).flatMap(([id, meta]) => (meta.default ? [id] : [])));
    for (const id of requested) if (id !== 'default') enabled.add(id);
  } else if (requested.includes('all')) {
    enabled = new Set(Object.keys(toolsets));
  } else {
    enabled = new Set(requested);
  }
  for (const id of enabled) {
    if (!Object.hasOwn(toolsets, id)) {
      throw new ServiceError(
        'INVALID_INPUT',
        `MCP_TOOLSETS: unknown toolset "${id}" (known: ${Object.keys(toolsets).join(', ')}, all, default)`,
      );
    }
  }
  return enabled;
}

/** The tools that exist under this config: toolsets first, then read-only (by each tool's readOnlyHint). */
export function selectTools(
  tools: readonly AnyToolDefinition[],
  toolsets: Toolsets,
  config: ToolSelection,
): AnyToolDefinition[] {
  const enabled = enabledToolsets(toolsets, config.MCP_TOOLSETS);
  return tools.filter(
    (tool) => enabled.has(tool.toolset) && (!config.MCP_READ_ONLY || resolveAnnotations(tool, config).readOnlyHint),
  );
}

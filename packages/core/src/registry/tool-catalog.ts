import { z } from 'zod';

import { type AnyToolDefinition, resolveAnnotations, type ToolAnnotations } from '../define-tool.js';

/** A tool as tools/list shows it (MCP `Tool`). */
export interface ToolListEntry {
  name: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown> & { type: 'object' };
  outputSchema?: Record<string, unknown> & { type: 'object' };
  annotations: ToolAnnotations & { title: string };
}

const JSON_SCHEMA_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** A zod object schema as JSON Schema 2020-12 (what MCP 2025-11-25 names as the default dialect). */
export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> & { type: 'object' } {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  if (json['type'] !== 'object') throw new Error('Tool schemas must be objects at the top level');
  return { ...json, $schema: JSON_SCHEMA_2020_12, type: 'object' };
}

/** The tools/list entries of the selected tools, with annotations as this config resolves them. */
export function toolListEntries(tools: readonly AnyToolDefinition[], config: unknown): ToolListEntry[] {
  return tools.map((tool) => {
    const entry: ToolListEntry = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: toJsonSchema(tool.input as z.ZodType, 'input'),
      annotations: { title: tool.title, ...resolveAnnotations(tool, config) },
    };
    if (tool.output) entry.outputSchema = toJsonSchema(tool.output as z.ZodType, 'output');
    return entry;
  });
}

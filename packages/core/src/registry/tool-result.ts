import {
  type AnyToolDefinition,
  attachedContent,
  type EmbeddedResourceContent,
  type RichContent,
} from '../define-tool.js';

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'image' | 'audio'; data: string; mimeType: string }
  | { type: 'resource'; resource: EmbeddedResourceContent };

/** MCP CallToolResult. */
export interface ToolResult {
  [key: string]: unknown;
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** An isError result carrying one message (what the model reads to correct itself). */
export function errorResult(message: string): ToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/**
 * A handler's output as a result: the object becomes structuredContent, and the same JSON one text
 * block (Open WebUI passes only `content` to the model), unless content blocks were attached
 * (withContent) or the tool renders its own (`content`).
 */
export function successResult(tool: AnyToolDefinition, output: unknown): ToolResult {
  const structured =
    output !== null && typeof output === 'object' && !Array.isArray(output)
      ? (output as Record<string, unknown>)
      : { result: output };
  const attached = attachedContent(structured);
  const content: ContentBlock[] = attached
    ? attached.map(toContentBlock)
    : tool.content
      ? tool.content(structured).map(toContentBlock)
      : [{ type: 'text', text: JSON.stringify(structured) }];
  return { content, structuredContent: structured };
}

function toContentBlock(block: RichContent): ContentBlock {
  if (block.type === 'text') return { type: 'text', text: block.text ?? '' };
  if (block.type === 'resource') {
    const { resource } = block;
    // A definition bug, not bad input: it surfaces as an internal error with the tool named in the log.
    if (!resource || (resource.text === undefined) === (resource.blob === undefined)) {
      throw new Error('A resource content block needs `resource` with exactly one of text or blob');
    }
    return { type: 'resource', resource };
  }
  return { type: block.type, data: block.data ?? '', mimeType: block.mimeType ?? 'application/octet-stream' };
}

/** What a result weighs, near enough: the length of its text and binary payloads. */
export function resultWeight(result: ToolResult): number {
  let size = 0;
  for (const block of result.content) {
    if (block.type === 'text') size += block.text.length;
    else if (block.type === 'resource') size += (block.resource.text ?? block.resource.blob ?? '').length;
    else size += block.data.length;
  }
  return size;
}

import type { ToolAnnotations } from '../define-tool.js';

/** The scopes a token can carry: `read` for tools that only read, `write` for the rest. */
export const SCOPES = ['read', 'write'] as const;
export type Scope = (typeof SCOPES)[number];

/** The scope a tool needs: decided by its readOnlyHint, as MCP_READ_ONLY is. */
export function scopeOfTool(annotations: ToolAnnotations): Scope {
  return annotations.readOnlyHint ? 'read' : 'write';
}

/**
 * A `scope` parameter as a set. Unknown scopes are dropped (RFC 6749 3.3: the server may grant
 * less than asked); `undefined` when nothing known remains.
 */
export function parseScope(text: string | undefined): Set<Scope> | undefined {
  if (text === undefined) return undefined;
  const known = new Set<Scope>();
  for (const part of text.split(' ')) if ((SCOPES as readonly string[]).includes(part)) known.add(part as Scope);
  return known.size > 0 ? known : undefined;
}

/** A scope set as the space-separated string OAuth uses, in a stable order. */
export function formatScope(scopes: Iterable<Scope>): string {
  const set = new Set(scopes);
  return SCOPES.filter((scope) => set.has(scope)).join(' ');
}

import type { ToolAnnotations } from '@mcp-sse/core';
import { z } from 'zod';

export const readAnnotations: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

export const pathField = (what = 'Path') =>
  z
    .string()
    .min(1)
    .max(4096)
    .describe(`${what}: absolute inside an allowed directory, or relative to the first allowed directory`);

export const entryTypeSchema = z.enum(['file', 'directory', 'symlink', 'other']);

export const excludeField = z
  .array(z.string().min(1).max(1000))
  .max(100)
  .optional()
  .describe('Glob patterns to leave out (and not descend into), e.g. ["node_modules", "*.log"]');

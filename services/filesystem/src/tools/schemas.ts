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

/** Present with truncated=true: which limit cut the answer short, and what to do about it. */
export const truncatedReasonField = z
  .string()
  .optional()
  .describe('Why the answer is partial (a walk, time, size or count limit), when truncated is true');

export const entryTypeSchema = z.enum(['file', 'directory', 'symlink', 'other']);

export const excludeField = z
  .array(z.string().min(1).max(1000))
  .max(100)
  .optional()
  .describe('Glob patterns to leave out (and not descend into), e.g. ["node_modules", "*.log"]');

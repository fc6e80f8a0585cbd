import { z } from 'zod';

import type { TreeNode } from '../file-service.js';
import { defineFsTool } from './define.js';
import { entryTypeSchema, excludeField, pathField, readAnnotations, truncatedReasonField } from './schemas.js';

const treeNodeSchema: z.ZodType<TreeNode> = z.object({
  name: z.string(),
  type: entryTypeSchema,
  // eslint-disable-next-line no-restricted-syntax -- zod's way to a recursive schema, made once
  get children() {
    return z.array(treeNodeSchema).optional();
  },
});

export const directoryTree = defineFsTool({
  name: 'directory_tree',
  title: 'Directory tree',
  toolset: 'read',
  description:
    'Returns the tree under a directory as nested {name, type, children} nodes, down to max_depth levels. ' +
    'Symbolic links are shown but not followed. Stops at 10000 entries, 64 levels, the walk limits or the answer ' +
    'size (truncated=true, with truncated_reason).',
  input: z.object({
    path: pathField('Directory'),
    max_depth: z.number().int().min(1).max(20).describe('How many levels to descend (1 = direct children only)'),
    exclude: excludeField,
  }),
  output: z.object({
    path: z.string(),
    tree: treeNodeSchema,
    truncated: z.boolean(),
    truncated_reason: truncatedReasonField,
  }),
  annotations: readAnnotations,
  handler: async ({ path, max_depth, exclude }, ctx) =>
    ctx.deps.files.directoryTree(path, max_depth, exclude, ctx.signal),
});

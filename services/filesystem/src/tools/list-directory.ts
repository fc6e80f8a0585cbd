import { z } from 'zod';

import { defineFsTool } from './define.js';
import { entryTypeSchema, pathField, readAnnotations, truncatedReasonField } from './schemas.js';

export const listDirectory = defineFsTool({
  name: 'list_directory',
  title: 'List a directory',
  toolset: 'read',
  description:
    'Lists the entries of one directory (name and type: file, directory, symlink, other). With sizes=true, ' +
    'file sizes in bytes and their total; sort_by "size" lists the largest first.',
  input: z.object({
    path: pathField('Directory'),
    sizes: z.boolean().optional().describe('Include file sizes and the total (default false)'),
    sort_by: z.enum(['name', 'size']).optional().describe('Order: "name" (default) or "size" (largest first)'),
  }),
  output: z.object({
    path: z.string(),
    entries: z.array(z.object({ name: z.string(), type: entryTypeSchema, size: z.number().optional() })),
    total_size: z.number().optional(),
    truncated: z.boolean(),
    truncated_reason: truncatedReasonField,
  }),
  annotations: readAnnotations,
  handler: async ({ path, sizes, sort_by }, ctx) =>
    ctx.deps.files.listDirectory(path, { sizes: sizes ?? false, sortBy: sort_by ?? 'name' }, ctx.signal),
});

import { z } from 'zod';

import { defineFsTool } from './define.js';
import { pathField } from './schemas.js';

export const deletePath = defineFsTool({
  name: 'delete_path',
  title: 'Delete a file or directory',
  toolset: 'write',
  description:
    'Deletes a file, a symbolic link (never its target) or an empty directory; a non-empty directory needs ' +
    'recursive=true. An allowed directory itself cannot be deleted. Only in read-write directories.',
  input: z.object({
    path: pathField(),
    recursive: z.boolean().optional().describe('Delete a directory with everything in it (default false)'),
  }),
  output: z.object({
    path: z.string(),
    type: z.enum(['file', 'directory', 'symlink', 'other']),
    removed: z.number().describe('Entries removed'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  handler: async ({ path, recursive }, ctx) => ctx.deps.files.deletePath(path, recursive ?? false, ctx.signal),
});

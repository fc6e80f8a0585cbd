import { z } from 'zod';

import { defineFsTool } from './define.js';
import { entryTypeSchema, pathField, readAnnotations } from './schemas.js';

export const getFileInfo = defineFsTool({
  name: 'get_file_info',
  title: 'Get file info',
  toolset: 'read',
  description:
    'Returns metadata of a file or directory: type, size in bytes, created/modified/accessed times (ISO 8601), ' +
    'permission bits (octal) and whether its allowed directory is writable.',
  input: z.object({ path: pathField() }),
  output: z.object({
    path: z.string(),
    type: entryTypeSchema,
    size: z.number(),
    created: z.string(),
    modified: z.string(),
    accessed: z.string(),
    permissions: z.string(),
    writable: z.boolean(),
  }),
  annotations: readAnnotations,
  handler: async ({ path }, ctx) => ctx.deps.files.getFileInfo(path),
});

import { z } from 'zod';

import { defineFsTool } from './define.js';
import { pathField, readAnnotations } from './schemas.js';

export const readMultipleFiles = defineFsTool({
  name: 'read_multiple_files',
  title: 'Read several text files',
  toolset: 'read',
  description:
    'Reads up to 50 text files in one call. Each result has either content or error: one failing file does not ' +
    'fail the others. The output cap (FS_MAX_READ_BYTES) is shared by the whole batch (truncated=true when cut).',
  input: z.object({ paths: z.array(pathField('File')).min(1).max(50) }),
  output: z.object({
    files: z.array(
      z.object({
        path: z.string(),
        content: z.string().optional(),
        truncated: z.boolean().optional(),
        error: z.string().optional(),
      }),
    ),
  }),
  annotations: readAnnotations,
  handler: async ({ paths }, ctx) => ctx.deps.files.readMultipleFiles(paths, ctx.signal),
});

import { z } from 'zod';

import { defineFsTool } from './define.js';
import { pathField } from './schemas.js';

export const writeFile = defineFsTool({
  name: 'write_file',
  title: 'Write a file',
  toolset: 'write',
  description:
    'Creates or replaces a text file with the given content (UTF-8), atomically: readers see the old file or the ' +
    'new one, never half of it. Missing parent directories are created. Only in read-write directories; at most ' +
    'FS_MAX_FILE_BYTES.',
  input: z.object({ path: pathField('File'), content: z.string().describe('The complete new content') }),
  output: z.object({ path: z.string(), bytes_written: z.number(), created: z.boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  handler: async ({ path, content }, ctx) => ctx.deps.files.writeFile(path, content),
});

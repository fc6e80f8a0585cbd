import { z } from 'zod';

import { defineFsTool } from './define.js';
import { pathField } from './schemas.js';

export const createDirectory = defineFsTool({
  name: 'create_directory',
  title: 'Create a directory',
  toolset: 'write',
  description:
    'Creates a directory and any missing parents. Succeeds with created=false when it already exists. Only in ' +
    'read-write directories.',
  input: z.object({ path: pathField('Directory') }),
  output: z.object({ path: z.string(), created: z.boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async ({ path }, ctx) => ctx.deps.files.createDirectory(path),
});

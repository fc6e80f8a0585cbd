import { z } from 'zod';

import { defineFsTool } from './define.js';
import { readAnnotations } from './schemas.js';

export const listAllowedDirectories = defineFsTool({
  name: 'list_allowed_directories',
  title: 'List allowed directories',
  toolset: 'read',
  description:
    'Lists the directories this server may access, each read-only ("ro") or read-write ("rw"). ' +
    'Relative paths in the other tools resolve against the first one.',
  input: z.object({}),
  output: z.object({
    directories: z.array(z.object({ path: z.string(), mode: z.enum(['ro', 'rw']) })),
  }),
  annotations: readAnnotations,
  handler: (_input, ctx) => Promise.resolve(ctx.deps.files.listAllowedDirectories()),
});

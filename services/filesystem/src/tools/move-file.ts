import { z } from 'zod';

import { defineFsTool } from './define.js';
import { pathField } from './schemas.js';

export const moveFile = defineFsTool({
  name: 'move_file',
  title: 'Move or rename',
  toolset: 'write',
  description:
    'Moves or renames a file or directory (a symbolic link is moved as a link). Fails if the destination exists; ' +
    'missing parent directories of the destination are created. Both sides must be in read-write directories.',
  input: z.object({ source: pathField('Source'), destination: pathField('Destination') }),
  output: z.object({ source: z.string(), destination: z.string() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  handler: async ({ source, destination }, ctx) => ctx.deps.files.moveFile(source, destination),
});

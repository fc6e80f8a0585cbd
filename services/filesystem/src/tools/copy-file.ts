import { z } from 'zod';

import { defineFsTool } from './define.js';
import { pathField } from './schemas.js';

export const copyFile = defineFsTool({
  name: 'copy_file',
  title: 'Copy a file',
  toolset: 'write',
  description:
    'Copies one file (not a directory) to a destination that must not exist yet; missing parent directories are ' +
    'created. The source may be in a read-only directory; the destination must be in a read-write one.',
  input: z.object({ source: pathField('Source file'), destination: pathField('Destination') }),
  output: z.object({ source: z.string(), destination: z.string(), bytes: z.number() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  handler: async ({ source, destination }, ctx) => ctx.deps.files.copyFile(source, destination),
});

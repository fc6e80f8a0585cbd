import { z } from 'zod';

import { defineFsTool } from './define.js';
import { entryTypeSchema, excludeField, pathField, readAnnotations, truncatedReasonField } from './schemas.js';

export const searchFiles = defineFsTool({
  name: 'search_files',
  title: 'Find files by name',
  toolset: 'read',
  description:
    'Finds files and directories under a directory whose names match a glob. A pattern without "/" matches the ' +
    'name at any depth ("*.md"); with "/" it matches the path relative to the directory ("src/**/*.ts"). ' +
    'Symbolic links are not followed. At most 1000 results (truncated=true, with truncated_reason). Extended globs ' +
    'such as +(a|b) are not supported; braces {a,b} are.',
  input: z.object({
    path: pathField('Directory to search'),
    pattern: z.string().min(1).max(1000).describe('Glob, e.g. "*.py" or "docs/**/*.md"'),
    exclude: excludeField,
  }),
  output: z.object({
    path: z.string(),
    matches: z.array(z.object({ path: z.string(), type: entryTypeSchema })),
    truncated: z.boolean(),
    truncated_reason: truncatedReasonField,
  }),
  annotations: readAnnotations,
  handler: async ({ path, pattern, exclude }, ctx) => ctx.deps.files.searchFiles(path, pattern, exclude, ctx.signal),
});

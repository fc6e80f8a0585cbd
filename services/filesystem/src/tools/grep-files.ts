import { z } from 'zod';

import { defineFsTool } from './define.js';
import { pathField, readAnnotations, truncatedReasonField } from './schemas.js';

export const grepFiles = defineFsTool({
  name: 'grep_files',
  title: 'Search file contents',
  toolset: 'read',
  description:
    'Searches text files under a directory (or one file) for lines matching a JavaScript regular expression ' +
    '(case-sensitive; use [Aa] or alternatives for other cases). Binary files and files over FS_MAX_FILE_BYTES ' +
    'are skipped. glob limits which files are searched ("*.ts"). Returns matching lines with line numbers and ' +
    'optional context lines; stops at max_matches (truncated=true).',
  input: z.object({
    path: pathField('Directory or file to search'),
    regex: z.string().min(1).max(1000).describe('JavaScript regular expression, at most 1000 characters'),
    glob: z.string().min(1).max(1000).optional().describe('Only search files whose name matches, e.g. "*.md"'),
    context_lines: z.number().int().min(0).max(10).optional().describe('Lines of context before and after (default 0)'),
    max_matches: z.number().int().min(1).max(1000).optional().describe('Stop after this many matches (default 100)'),
  }),
  output: z.object({
    path: z.string(),
    matches: z.array(
      z.object({
        path: z.string(),
        line: z.number(),
        text: z.string(),
        before: z.array(z.string()).optional(),
        after: z.array(z.string()).optional(),
      }),
    ),
    files_searched: z.number(),
    files_skipped: z.number(),
    truncated: z.boolean(),
    truncated_reason: truncatedReasonField,
  }),
  annotations: readAnnotations,
  handler: async ({ path, regex, glob, context_lines, max_matches }, ctx) =>
    ctx.deps.files.grepFiles(path, regex, { glob, contextLines: context_lines, maxMatches: max_matches }, ctx.signal),
});

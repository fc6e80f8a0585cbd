import { z } from 'zod';

import { defineFsTool } from './define.js';
import { pathField, readAnnotations } from './schemas.js';

const lines = (what: string) => z.number().int().min(1).max(10_000_000).optional().describe(what);

export const readFile = defineFsTool({
  name: 'read_file',
  title: 'Read a text file',
  toolset: 'read',
  description:
    'Reads a UTF-8 text file, whole or by lines: offset (1-based first line) and limit (line count), or head / tail ' +
    '(first / last N lines). Output is capped (FS_MAX_READ_BYTES): truncated=true when cut, and next_offset ' +
    'tells where to continue. Binary files are refused; use read_media_file for images and audio.',
  input: z.object({
    path: pathField('File'),
    offset: lines('First line to return, 1-based (default 1)'),
    limit: lines('Most lines to return'),
    head: lines('Return only the first N lines'),
    tail: lines('Return only the last N lines'),
  }),
  output: z.object({
    path: z.string(),
    content: z.string(),
    start_line: z.number(),
    end_line: z.number(),
    total_lines: z.number().optional(),
    truncated: z.boolean(),
    next_offset: z.number().optional(),
  }),
  annotations: readAnnotations,
  handler: async ({ path, offset, limit, head, tail }, ctx) =>
    ctx.deps.files.readFile(path, { offset, limit, head, tail }, ctx.signal),
});

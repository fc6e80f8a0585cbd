import { withContent } from '@mcp-sse/core';
import { z } from 'zod';

import { defineFsTool } from './define.js';
import { pathField, readAnnotations } from './schemas.js';

const output = z.object({ path: z.string(), mime_type: z.string(), size: z.number() });

export const readMediaFile = defineFsTool({
  name: 'read_media_file',
  title: 'Read an image or audio file',
  toolset: 'read',
  description:
    'Returns an image or audio file as a base64 content block with its MIME type (from the file extension). ' +
    'Files over FS_MAX_FILE_BYTES are refused.',
  input: z.object({ path: pathField('Image or audio file') }),
  output,
  annotations: readAnnotations,
  handler: async ({ path }, ctx) => {
    const { data, ...rest } = await ctx.deps.files.readMediaFile(path);
    // The base64 payload travels beside the output, not in it: structuredContent stays small and
    // the bytes reach the client once, as an image or audio block.
    return withContent(rest, [
      { type: 'text', text: JSON.stringify(rest) },
      { type: rest.mime_type.startsWith('audio/') ? 'audio' : 'image', data, mimeType: rest.mime_type },
    ]);
  },
});

import type { RichContent } from '@mcp-sse/core';
import { z } from 'zod';

import { defineFsTool } from './define.js';
import { pathField, readAnnotations } from './schemas.js';

const output = z.object({ path: z.string(), mime_type: z.string(), size: z.number() });
type MediaOutput = z.infer<typeof output>;

// The base64 payload travels beside the output, not in it: structuredContent stays small and the
// bytes reach the client once, as an image or audio block.
const payloads = new WeakMap<object, string>();

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
  content: (result: MediaOutput): RichContent[] => [
    { type: 'text', text: JSON.stringify(result) },
    {
      type: result.mime_type.startsWith('audio/') ? 'audio' : 'image',
      data: payloads.get(result) ?? '',
      mimeType: result.mime_type,
    },
  ],
  handler: async ({ path }, ctx) => {
    const { data, ...rest } = await ctx.deps.files.readMediaFile(path);
    payloads.set(rest, data);
    return rest;
  },
});

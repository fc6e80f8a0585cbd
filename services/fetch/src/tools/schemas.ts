import type { ToolAnnotations } from '@mcp-sse/core';
import { z } from 'zod';

import { FORMATS } from '../fetcher.js';

export const fetchAnnotations: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};

export const urlSchema = z.string().min(1).max(8192).describe('An absolute http:// or https:// URL');

export const formatSchema = z
  .enum(FORMATS)
  .default('markdown')
  .describe(
    'markdown: main content as markdown (default); text: main content as plain text; html: main content as HTML; ' +
      'json: the body parsed and pretty-printed; raw: the body as served. Non-HTML text is returned as is by markdown/text/html.',
  );

export const maxLengthSchema = z
  .number()
  .int()
  .min(1)
  .max(1_000_000)
  .optional()
  .describe('Most characters of content to return (default: FETCH_DEFAULT_MAX_LENGTH, 20000)');

export const headersSchema = z
  .record(z.string(), z.string())
  .optional()
  .describe(
    'Extra request headers, e.g. Accept-Language or Authorization. Host, User-Agent and framing headers cannot be set; ' +
      'only Accept and Accept-Language follow a redirect to another origin.',
  );

export const pageSchema = z.object({
  url: z.string().describe('The URL asked for'),
  final_url: z.string().describe('The URL after redirects; relative links in the content were resolved against it'),
  status: z.number().int(),
  content_type: z.string(),
  format: z.enum(FORMATS),
  title: z.string().optional(),
  content: z.string(),
  start_index: z.number().int(),
  total_length: z.number().int().describe('Length of the whole converted content, in characters'),
  next_start_index: z.number().int().optional().describe('Present when more content remains: pass it as start_index'),
  truncated: z
    .boolean()
    .describe('The body was cut at FETCH_MAX_BODY_BYTES before conversion, or this page was cut to fit the answer'),
  truncated_reason: z.string().optional().describe('Which limit cut it, when truncated is true'),
  redirects: z.array(z.string()),
  untrusted: z.literal(true),
  notice: z.string(),
});

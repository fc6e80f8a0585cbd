import { z } from 'zod';

import { answerBudget, takeWithinBudget } from '../budget.js';
import { listImages as list } from '../docker.js';
import { defineMonitoringTool } from './define.js';
import { readAnnotations } from './schemas.js';

export const listImages = defineMonitoringTool({
  name: 'list_images',
  title: 'List images',
  toolset: 'docker',
  description: 'Lists local images, newest first: tags, digests, creation time, size and how many containers use each.',
  input: z.object({
    reference: z.string().min(1).max(255).optional().describe('repository[:tag], * allowed (e.g. "nginx", "mcp-*")'),
    dangling: z.boolean().optional().describe('Only untagged images (true) or only tagged ones (false)'),
    all: z.boolean().default(false).describe('Include intermediate images'),
    limit: z.number().int().min(1).max(1000).default(200),
  }),
  output: z.object({
    images: z.array(
      z.object({
        id: z.string(),
        tags: z.array(z.string()),
        digests: z.array(z.string()),
        created: z.string().nullable(),
        size_bytes: z.number(),
        containers: z.number().nullable(),
      }),
    ),
    count: z.number(),
    total: z.number(),
    truncated: z.boolean(),
  }),
  annotations: readAnnotations,
  handler: async (input, ctx) => {
    const images = await list(ctx.deps.engine, { ...input, signal: ctx.signal });
    const fitted = takeWithinBudget(images.slice(0, input.limit), answerBudget(ctx.config.MCP_MAX_RESULT_BYTES));
    return {
      images: fitted.items,
      count: fitted.items.length,
      total: images.length,
      truncated: fitted.items.length < images.length,
    };
  },
});

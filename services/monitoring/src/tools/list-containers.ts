import { z } from 'zod';

import { answerBudget, takeWithinBudget } from '../budget.js';
import { CONTAINER_STATES, containerView, listContainers as list } from '../docker.js';
import { defineMonitoringTool } from './define.js';
import { labelsSchema, readAnnotations } from './schemas.js';

export const listContainers = defineMonitoringTool({
  name: 'list_containers',
  title: 'List containers',
  toolset: 'docker',
  description:
    'Lists containers (running ones; all=true adds stopped ones) with image, state, status text ("Up 2 hours", ' +
    '"Exited (1) 5 minutes ago"), ports, networks and labels (secret-looking values masked). Filters: name (substring), ' +
    'label (key or key=value), status.',
  input: z.object({
    all: z.boolean().default(false).describe('Include stopped containers'),
    name: z.string().min(1).max(255).optional().describe('Part of a container name'),
    label: z.string().min(1).max(1300).optional().describe('A label: key or key=value'),
    status: z.enum(CONTAINER_STATES).optional().describe('Only containers in this state'),
    limit: z.number().int().min(1).max(1000).default(200).describe('Most containers returned'),
  }),
  output: z.object({
    containers: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        image: z.string().nullable(),
        state: z.string().nullable(),
        status: z.string().nullable(),
        created: z.string().nullable(),
        ports: z.array(z.string()),
        networks: z.array(z.string()),
        labels: labelsSchema,
      }),
    ),
    count: z.number(),
    total: z.number(),
    truncated: z.boolean(),
  }),
  annotations: readAnnotations,
  handler: async (input, ctx) => {
    const containers = await list(ctx.deps.engine, { ...input, signal: ctx.signal });
    const views = containers.map(containerView).sort((a, b) => a.name.localeCompare(b.name));
    const fitted = takeWithinBudget(views.slice(0, input.limit), answerBudget(ctx.config.MCP_MAX_RESULT_BYTES));
    return {
      containers: fitted.items,
      count: fitted.items.length,
      total: views.length,
      truncated: fitted.items.length < views.length,
    };
  },
});

import { z } from 'zod';

import { answerBudget, takeWithinBudget } from '../budget.js';
import { resolveContainer } from '../docker.js';
import { EVENT_TYPES, readEvents } from '../events.js';
import { describeWindow, parseWindow } from '../time-window.js';
import { defineMonitoringTool } from './define.js';
import {
  containerRefSchema,
  labelsSchema,
  readAnnotations,
  sinceSchema,
  untilSchema,
  windowSchema,
} from './schemas.js';

export const dockerEvents = defineMonitoringTool({
  name: 'docker_events',
  title: 'Docker events',
  toolset: 'docker',
  description:
    "The engine's events in a window, oldest first: container create/start/die (with exit code)/kill/stop/restart/" +
    'oom/health_status, image pulls, network and volume changes. The engine keeps only its most recent events ' +
    '(about 256) in memory. At most `limit`; beyond it truncated=true and next_since continues.',
  input: z.object({
    since: sinceSchema,
    until: untilSchema.optional(),
    type: z.enum(EVENT_TYPES).optional().describe('Only events of this object type'),
    container: containerRefSchema.optional().describe('Only events of this container'),
    limit: z.number().int().min(1).max(1000).default(200),
  }),
  output: z.object({
    window: windowSchema,
    events: z.array(
      z.object({
        time: z.string(),
        type: z.string(),
        action: z.string(),
        id: z.string().nullable(),
        name: z.string().nullable(),
        image: z.string().nullable(),
        exit_code: z.number().nullable(),
        attributes: labelsSchema,
      }),
    ),
    count: z.number(),
    truncated: z.boolean(),
    next_since: z.string().optional(),
  }),
  annotations: readAnnotations,
  handler: async (input, ctx) => {
    const window = parseWindow(input, Date.now());
    const containerId =
      input.container === undefined
        ? undefined
        : (await resolveContainer(ctx.deps.engine, input.container, ctx.signal)).Id;
    const result = await readEvents(ctx.deps.engine, {
      window,
      type: input.type,
      containerId,
      limit: input.limit,
      signal: ctx.signal,
    });
    const fitted = takeWithinBudget(result.events, answerBudget(ctx.config.MCP_MAX_RESULT_BYTES));
    // Cut for the answer budget: continue at the first event left out.
    const nextSince = fitted.truncated ? result.events[fitted.items.length]?.time : result.next_since;
    return {
      window: describeWindow(window),
      events: fitted.items,
      count: fitted.items.length,
      truncated: result.truncated || fitted.truncated,
      ...(nextSince !== undefined && { next_since: nextSince }),
    };
  },
});

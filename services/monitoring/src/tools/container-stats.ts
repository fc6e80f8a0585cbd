import { z } from 'zod';

import { answerBudget, takeWithinBudget } from '../budget.js';
import { containerStats as stats } from '../docker.js';
import { defineMonitoringTool } from './define.js';
import { containerRefSchema, readAnnotations } from './schemas.js';

export const containerStats = defineMonitoringTool({
  name: 'container_stats',
  title: 'Container resource use',
  toolset: 'docker',
  description:
    'One sample of CPU %, memory (without reclaimable cache, as docker stats shows it), network and block I/O, for ' +
    'one container or, without container, every running one (at most MONITORING_MAX_CONTAINERS). CPU % is over ' +
    'about a second; 100 % is one full core.',
  input: z.object({ container: containerRefSchema.optional() }),
  output: z.object({
    containers: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        cpu_percent: z.number(),
        online_cpus: z.number(),
        memory: z.object({
          used_bytes: z.number(),
          limit_bytes: z.number(),
          percent: z.number(),
          cache_bytes: z.number(),
        }),
        network: z.object({
          rx_bytes: z.number(),
          tx_bytes: z.number(),
          rx_packets: z.number(),
          tx_packets: z.number(),
          interfaces: z.array(z.string()),
        }),
        block_io: z.object({ read_bytes: z.number(), write_bytes: z.number() }),
        pids: z.number().nullable(),
        read_at: z.string().nullable(),
      }),
    ),
    running: z.number().describe('Running containers (all of them, when none was named)'),
    truncated: z.boolean(),
  }),
  annotations: readAnnotations,
  handler: async ({ container }, ctx) => {
    const result = await stats(ctx.deps.engine, container, {
      concurrency: ctx.config.MONITORING_CONCURRENCY,
      max: ctx.config.MONITORING_MAX_CONTAINERS,
      signal: ctx.signal,
    });
    const fitted = takeWithinBudget(result.containers, answerBudget(ctx.config.MCP_MAX_RESULT_BYTES));
    return { containers: fitted.items, running: result.running, truncated: result.truncated || fitted.truncated };
  },
});

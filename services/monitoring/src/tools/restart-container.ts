import { z } from 'zod';

import { restartContainer as restart } from '../docker.js';
import { defineMonitoringTool } from './define.js';
import { containerRefSchema } from './schemas.js';

export const restartContainer = defineMonitoringTool({
  name: 'restart_container',
  title: 'Restart a container',
  toolset: 'control',
  description:
    'Restarts one container (stop with SIGTERM, then SIGKILL after timeout_seconds, then start), as docker restart. ' +
    'Only when the operator set MONITORING_ALLOW_RESTART=true.',
  input: z.object({
    container: containerRefSchema,
    timeout_seconds: z
      .number()
      .int()
      .min(0)
      .max(300)
      .default(10)
      .describe('Seconds to wait for a clean stop before SIGKILL'),
  }),
  output: z.object({
    id: z.string(),
    name: z.string(),
    restarted: z.boolean(),
    previous_started_at: z.string().nullable(),
    started_at: z.string().nullable(),
    status: z.string().nullable(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  handler: async ({ container, timeout_seconds }, ctx) =>
    restart(ctx.deps.engine, container, timeout_seconds, ctx.signal),
});

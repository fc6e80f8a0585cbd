import { baseConfigSchema, defineService, toolDefiner } from '@mcp-sse/core';
import { z } from 'zod';

/** The bench's service: one trivial tool, so that what is measured is the server, not a handler. */
export const trivialConfigSchema = baseConfigSchema;
type TrivialConfig = z.infer<typeof trivialConfigSchema>;

const tool = toolDefiner<TrivialConfig, Record<string, never>, 'read'>();

export const echo = tool({
  name: 'echo',
  title: 'Echo',
  toolset: 'read',
  description: 'Returns its message.',
  input: z.object({ message: z.string().max(10_000) }),
  output: z.object({ message: z.string() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async ({ message }) => ({ message }),
});

export const trivialService = defineService({
  name: 'bench',
  version: '0.1.0',
  description: 'Bench service with one trivial tool',
  config: trivialConfigSchema,
  toolsets: { read: { description: 'The echo tool', default: true } },
  tools: [echo],
  createContext: () => ({}),
});

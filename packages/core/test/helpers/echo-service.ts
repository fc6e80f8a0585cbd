import { setTimeout as sleep } from 'node:timers/promises';

import { z } from 'zod';

import { baseConfigSchema, defineService, ServiceError, toolDefiner } from '../../src/index.js';

/** A test service exercising every core path: plain output, progress, logging, errors, timeouts. */
export const echoConfigSchema = baseConfigSchema.extend({
  ECHO_PREFIX: z.string().default(''),
  ECHO_HEALTHY: z.stringbool().default(true),
});
type EchoConfig = z.infer<typeof echoConfigSchema>;
interface EchoDeps {
  calls: number;
  finished: string[];
  aborted: string[];
  closed: boolean;
}

const tool = toolDefiner<EchoConfig, EchoDeps, 'read' | 'write' | 'extra'>();
const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

export const echo = tool({
  name: 'echo',
  title: 'Echo',
  toolset: 'read',
  description: 'Returns its message.',
  input: z.object({ message: z.string().max(10_000) }),
  output: z.object({ message: z.string() }),
  annotations: readOnly,
  handler: async ({ message }, ctx) => {
    ctx.deps.calls += 1;
    return { message: `${ctx.config.ECHO_PREFIX}${message}` };
  },
});

export const slow = tool({
  name: 'slow',
  title: 'Slow',
  toolset: 'read',
  description: 'Waits, reporting progress and logging; honours the abort signal.',
  input: z.object({
    ms: z.number().int().min(0).max(60_000),
    steps: z.number().int().min(1).max(20).default(2),
    tag: z.string().default(''),
  }),
  output: z.object({ waited: z.number() }),
  annotations: readOnly,
  handler: async ({ ms, steps, tag }, ctx) => {
    await ctx.log('info', { starting: ms });
    await ctx.log('debug', { detail: 'debug-level' });
    try {
      for (let i = 1; i <= steps; i += 1) {
        await sleep(ms / steps, undefined, { signal: ctx.signal });
        await ctx.progress(i, steps, `step ${i}`);
      }
    } catch (error) {
      ctx.deps.aborted.push(tag);
      throw error;
    }
    ctx.deps.finished.push(tag);
    return { waited: ms };
  },
});

export const fail = tool({
  name: 'fail',
  title: 'Fail',
  toolset: 'read',
  description: 'Throws an expected error or an unexpected one.',
  input: z.object({ kind: z.enum(['service', 'crash']) }),
  annotations: readOnly,
  handler: async ({ kind }) => {
    if (kind === 'service') throw new ServiceError('NOT_FOUND', 'No such thing: widget 7');
    throw new Error('driver said: password=hunter2 at /secret/path');
  },
});

export const write = tool({
  name: 'write_thing',
  title: 'Write',
  toolset: 'write',
  description: 'A tool that is not read-only.',
  input: z.object({ value: z.string() }),
  output: z.object({ written: z.string() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  handler: async ({ value }) => ({ written: value }),
});

export const pixel = tool({
  name: 'get_pixel',
  title: 'Pixel',
  toolset: 'extra',
  description: 'Returns an image block.',
  input: z.object({}),
  output: z.object({ mime_type: z.string(), size: z.number() }),
  annotations: readOnly,
  content: () => [{ type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' }],
  handler: async () => ({ mime_type: 'image/png', size: 8 }),
});

export const echoService = defineService({
  name: 'echo',
  version: '1.2.3',
  description: 'Echo test service',
  config: echoConfigSchema,
  toolsets: {
    read: { description: 'reads', default: true },
    write: { description: 'writes', default: true },
    extra: { description: 'off by default', default: false },
  },
  tools: [echo, slow, fail, write, pixel],
  createContext: (): EchoDeps => ({ calls: 0, finished: [], aborted: [], closed: false }),
  healthChecks: (deps, config) => ({
    backend: async () => {
      if (!config.ECHO_HEALTHY) throw new ServiceError('UNAVAILABLE', 'backend unreachable');
      return { calls: deps.calls };
    },
  }),
  close: (deps) => {
    deps.closed = true;
  },
});

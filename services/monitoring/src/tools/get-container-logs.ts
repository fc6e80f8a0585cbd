import { z } from 'zod';

import { answerBudget } from '../budget.js';
import { containerName } from '../container-ref.js';
import { inspectRaw, resolveContainer } from '../docker.js';
import { compilePattern, LineMatcher, MAX_PATTERN_LENGTH } from '../line-matcher.js';
import { readContainerLogs } from '../logs.js';
import { describeWindow, parseWindow } from '../time-window.js';
import { defineMonitoringTool } from './define.js';
import { containerRefSchema, readAnnotations, sinceSchema, untilSchema, windowSchema } from './schemas.js';

export const getContainerLogs = defineMonitoringTool({
  name: 'get_container_logs',
  title: 'Get container logs',
  toolset: 'logs',
  description:
    "Reads a container's logs, oldest first, as `docker logs` would: the last `tail` lines (default " +
    'MONITORING_LOG_DEFAULT_TAIL when neither tail nor since is given), or the lines in since/until. grep keeps ' +
    'the lines matching a regular expression (JavaScript syntax; a leading (?i) ignores case); stream picks ' +
    "stdout, stderr or both; timestamps adds each line's time. The answer stops at max_bytes with " +
    'truncated=true and next_since (pass it as since to read on). It states the window it covers.',
  input: z.object({
    container: containerRefSchema,
    tail: z.number().int().min(1).max(100_000).optional().describe('Only the last N lines (applied before grep)'),
    since: sinceSchema.optional(),
    until: untilSchema.optional(),
    grep: z
      .string()
      .min(1)
      .max(MAX_PATTERN_LENGTH)
      .optional()
      .describe('Keep only lines matching this regular expression'),
    timestamps: z.boolean().default(false).describe("Add each line's time (RFC 3339, nanoseconds)"),
    stream: z.enum(['stdout', 'stderr', 'both']).default('both'),
    max_bytes: z.number().int().min(1024).optional().describe('Answer budget in bytes (capped by the server)'),
  }),
  output: z.object({
    container: z.string(),
    id: z.string(),
    tty: z.boolean(),
    window: windowSchema,
    tail: z.number().nullable(),
    entries: z.array(
      z.object({
        stream: z.enum(['stdout', 'stderr']),
        time: z.string().optional(),
        line: z.string(),
        cut: z.literal(true).optional(),
      }),
    ),
    count: z.number(),
    truncated: z.boolean(),
    truncated_reason: z.enum(['max_bytes', 'read_limit']).optional(),
    next_since: z.string().optional(),
    lines_read: z.number(),
    bytes_read: z.number(),
    first_time: z.string().optional(),
    last_time: z.string().optional(),
    note: z.string().optional(),
  }),
  annotations: readAnnotations,
  handler: async (input, ctx) => {
    const config = ctx.config;
    const window = parseWindow(input, Date.now());
    const pattern = input.grep === undefined ? undefined : compilePattern(input.grep);
    const container = await resolveContainer(ctx.deps.engine, input.container, ctx.signal);
    const info = await inspectRaw(ctx.deps.engine, container.Id, ctx.signal);
    const tty = info.Config?.Tty ?? false;
    const tail = input.tail ?? (input.since === undefined ? config.MONITORING_LOG_DEFAULT_TAIL : undefined);
    const outputLimit = answerBudget(
      config.MCP_MAX_RESULT_BYTES,
      Math.min(input.max_bytes ?? Infinity, config.MONITORING_LOG_MAX_BYTES),
    );
    const matcher = pattern ? new LineMatcher(pattern, config.MONITORING_REGEX_BUDGET_MS) : undefined;
    try {
      const result = await readContainerLogs(
        ctx.deps.engine,
        { id: container.Id, tty },
        {
          stream: input.stream,
          tail,
          window,
          timestamps: input.timestamps,
          matcher,
          // Without a filter every byte read is answered: read no more than the answer budget.
          readLimitBytes: matcher ? config.MONITORING_LOG_SCAN_BYTES : outputLimit,
          outputLimitBytes: outputLimit,
          maxLineBytes: config.MONITORING_LOG_MAX_LINE_BYTES,
          signal: ctx.signal,
        },
      );
      const notes = [];
      if (tty && input.stream === 'stderr') notes.push('The container has a TTY: all its output is on stdout.');
      if (window.untilClamped) notes.push('until was in the future and was set to now.');
      return {
        container: containerName(container),
        id: container.Id.slice(0, 12),
        tty,
        window: describeWindow(window),
        tail: tail ?? null,
        entries: result.entries,
        count: result.entries.length,
        truncated: result.truncated,
        ...(result.truncated_reason !== undefined && { truncated_reason: result.truncated_reason }),
        ...(result.next_since !== undefined && { next_since: result.next_since }),
        lines_read: result.lines_read,
        bytes_read: result.bytes_read,
        ...(result.first_time !== undefined && { first_time: result.first_time }),
        ...(result.last_time !== undefined && { last_time: result.last_time }),
        ...(notes.length > 0 && { note: notes.join(' ') }),
      };
    } finally {
      await matcher?.close();
    }
  },
});

import { z } from 'zod';

import { MonitoringError } from '../errors.js';
import { searchEngineLogs, searchLoki } from '../search.js';
import { parseWindow } from '../time-window.js';
import { defineMonitoringTool } from './define.js';
import {
  containerRefSchema,
  labelsSchema,
  readOutsideAnnotations,
  sinceSchema,
  untilSchema,
  windowSchema,
} from './schemas.js';

export const searchLogs = defineMonitoringTool({
  name: 'search_logs',
  title: 'Search logs',
  toolset: 'logs',
  description:
    'Searches logs in a time window (default: the last MONITORING_SEARCH_DEFAULT_SINCE), newest first. With Loki ' +
    '(backend "loki") the query is LogQL, e.g. {container="web"} |= "error" or a metric query such as ' +
    'sum by (container) (count_over_time({job="docker"} |= "error" [5m])). Without Loki (backend "engine") the ' +
    "query is a regular expression matched against each line of the containers' own logs (containers, default: " +
    'every running one). truncated says more matched than was returned.',
  input: z.object({
    query: z.string().min(1).max(4096).describe('LogQL with Loki; a regular expression without'),
    since: sinceSchema.optional(),
    until: untilSchema.optional(),
    limit: z
      .number()
      .int()
      .min(1)
      .max(5000)
      .default(100)
      .describe('Most lines returned (capped by LOKI_MAX_ENTRIES with Loki, 1000 without)'),
    containers: z
      .array(containerRefSchema)
      .min(1)
      .max(100)
      .optional()
      .describe('Engine search only: the containers to search'),
  }),
  output: z.object({
    backend: z.enum(['loki', 'engine']),
    query: z.string(),
    window: windowSchema,
    result_type: z.enum(['streams', 'matrix', 'vector']).optional(),
    streams: z
      .array(z.object({ labels: labelsSchema, entries: z.array(z.object({ time: z.string(), line: z.string() })) }))
      .optional(),
    entry_count: z.number().optional(),
    series: z
      .array(z.object({ metric: labelsSchema, values: z.array(z.object({ time: z.string(), value: z.string() })) }))
      .optional(),
    series_count: z.number().optional(),
    containers_searched: z.array(z.string()).optional(),
    containers_skipped: z.number().optional(),
    matches: z
      .array(
        z.object({
          container: z.string(),
          stream: z.enum(['stdout', 'stderr']),
          time: z.string().nullable(),
          line: z.string(),
        }),
      )
      .optional(),
    match_count: z.number().optional(),
    incomplete: z.array(z.object({ container: z.string(), read_until: z.string().nullable() })).optional(),
    unreadable: z
      .array(z.object({ container: z.string(), error: z.string() }))
      .optional()
      .describe('Containers whose logs the engine cannot read (e.g. logging driver none)'),
    truncated: z.boolean(),
    truncated_reason: z.string().optional(),
  }),
  annotations: readOutsideAnnotations,
  handler: async (input, ctx) => {
    const config = ctx.config;
    const window = parseWindow(input, Date.now(), config.MONITORING_SEARCH_DEFAULT_SINCE);
    const loki = ctx.deps.loki;
    if (loki !== undefined) {
      const limit = Math.min(input.limit, config.LOKI_MAX_ENTRIES);
      return searchLoki(loki, { ...input, limit, window }, config.MCP_MAX_RESULT_BYTES, ctx.signal);
    }
    if (input.limit > 1000) throw new MonitoringError('INVALID_INPUT', 'limit: at most 1000 without Loki');
    return searchEngineLogs(
      ctx.deps.engine,
      { ...input, window },
      {
        maxResultBytes: config.MCP_MAX_RESULT_BYTES,
        scanBytes: config.MONITORING_LOG_SCAN_BYTES,
        maxLineBytes: config.MONITORING_LOG_MAX_LINE_BYTES,
        regexBudgetMs: config.MONITORING_REGEX_BUDGET_MS,
        concurrency: config.MONITORING_CONCURRENCY,
        maxContainers: config.MONITORING_MAX_CONTAINERS,
      },
      ctx.signal,
    );
  },
});

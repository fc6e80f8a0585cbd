import { z } from 'zod';

import { answerBudget, takeWithinBudget } from '../budget.js';
import { MonitoringError } from '../errors.js';
import { LABEL_NAME, type LokiClient } from '../loki.js';
import { describeWindow, parseWindow, type TimeWindow } from '../time-window.js';
import { defineMonitoringTool } from './define.js';
import { readOutsideAnnotations, sinceSchema, untilSchema, windowSchema } from './schemas.js';

function lokiOf(loki: LokiClient | undefined): LokiClient {
  if (loki === undefined) {
    throw new MonitoringError(
      'UNAVAILABLE',
      'Loki is not configured (LOKI_URL is not set); search_logs searches the engine instead',
    );
  }
  return loki;
}

function closed(window: TimeWindow) {
  if (window.since === undefined) throw new MonitoringError('INVALID_INPUT', 'since is required');
  return { since: window.since, until: window.until };
}

const valuesOutput = z.object({
  window: windowSchema,
  values: z.array(z.string()),
  count: z.number(),
  truncated: z.boolean(),
});

export const lokiLabels = defineMonitoringTool({
  name: 'loki_labels',
  title: 'Loki label names',
  toolset: 'loki',
  description: 'The label names Loki has in a window (default: the last 6 hours), to write LogQL selectors.',
  input: z.object({ since: sinceSchema.default('6h'), until: untilSchema.optional() }),
  output: valuesOutput,
  annotations: readOutsideAnnotations,
  handler: async (input, ctx) => {
    const loki = lokiOf(ctx.deps.loki);
    const window = parseWindow(input, Date.now());
    const labels = (await loki.labels(closed(window), ctx.signal)).sort();
    const fitted = takeWithinBudget(labels, answerBudget(ctx.config.MCP_MAX_RESULT_BYTES));
    return { window: describeWindow(window), values: fitted.items, count: labels.length, truncated: fitted.truncated };
  },
});

export const lokiLabelValues = defineMonitoringTool({
  name: 'loki_label_values',
  title: 'Loki label values',
  toolset: 'loki',
  description:
    'The values of one label in a window (default: the last 6 hours), e.g. label "container" lists the containers ' +
    'Loki has logs of. query (a stream selector) narrows them.',
  input: z.object({
    label: z.string().min(1).max(256).regex(LABEL_NAME, 'must be a label name ([a-zA-Z_][a-zA-Z0-9_]*)'),
    since: sinceSchema.default('6h'),
    until: untilSchema.optional(),
    query: z.string().min(1).max(4096).optional().describe('A stream selector, e.g. {job="docker"}'),
  }),
  output: valuesOutput,
  annotations: readOutsideAnnotations,
  handler: async (input, ctx) => {
    const loki = lokiOf(ctx.deps.loki);
    const window = parseWindow(input, Date.now());
    const values = (await loki.labelValues(input.label, closed(window), input.query, ctx.signal)).sort();
    const fitted = takeWithinBudget(values, answerBudget(ctx.config.MCP_MAX_RESULT_BYTES));
    return { window: describeWindow(window), values: fitted.items, count: values.length, truncated: fitted.truncated };
  },
});
